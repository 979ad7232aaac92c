package jsonata

import (
	"fmt"
	"testing"
)

func benchInput(n int) map[string]any {
	items := make([]any, n)
	for i := range items {
		items[i] = map[string]any{"name": fmt.Sprint("item", i), "price": float64((i * 37) % 100), "qty": float64(i%7 + 1)}
	}
	return map[string]any{"items": items}
}

func benchExpr(b *testing.B, expr string, prepared bool) {
	e := MustCompile(expr)
	var input any = benchInput(1000)
	if prepared {
		input = Prepare(input)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Evaluate(input, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}

// BenchmarkSumProduct evaluates $sum(items.(price * qty)) over 1,000 items.
func BenchmarkSumProduct(b *testing.B) { benchExpr(b, `$sum(items.(price * qty))`, false) }

// BenchmarkFilterSort evaluates a filter with a descending sort over 1,000 items.
func BenchmarkFilterSort(b *testing.B) { benchExpr(b, `items[price > 50]^(>price)`, false) }

// The Prepared variants convert the input once (see Prepare) and measure evaluation alone.
func BenchmarkSumProductPrepared(b *testing.B) {
	benchExpr(b, `$sum(items.(price * qty))`, true)
}

func BenchmarkFilterSortPrepared(b *testing.B) { benchExpr(b, `items[price > 50]^(>price)`, true) }
