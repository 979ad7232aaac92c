// Package bench holds the engine's benchmarks (bench_test.go) and the
// workloads they run: the definitions under testdata/ (also used by
// hack/bench-vs-local-sfn.sh) and generators for their inputs.
//
//	go test -run '^$' -bench . -benchmem -cpu 1 ./internal/engine/bench/
package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
)

// Load parses, validates and compiles a definition file.
func Load(path string) (*engine.Program, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	def, diags := asl.Parse(data, asl.Options{})
	var errs []string
	for _, d := range diags {
		if d.Severity != asl.SeverityWarning {
			errs = append(errs, d.Location+" "+d.Code+" "+d.Message)
		}
	}
	if def == nil || len(errs) > 0 {
		return nil, fmt.Errorf("%s: invalid definition:\n  %s", filepath.Base(path), strings.Join(errs, "\n  "))
	}
	return engine.Compile(def)
}

// CounterInput is the counter loop's input.
func CounterInput() any { return map[string]any{"count": int64(0)} }

// MapInput is the Map workload's input: {"items": [{"id": 0, "qty": 0}, ...]}
// with n items; qty is id % 7. hack/bench-vs-local-sfn.sh builds the same
// document with jq.
func MapInput(n int) any {
	items := make([]any, n)
	for i := range items {
		items[i] = map[string]any{"id": int64(i), "qty": int64(i % 7)}
	}
	return map[string]any{"items": items}
}

// ParamsInput is the Parameters workload's input: a customer, a meta
// object and orders (each with a few lines) until the document's JSON is
// at least size bytes.
func ParamsInput(size int) any {
	doc := map[string]any{
		"customer": map[string]any{
			"id": "cust-42", "name": "Ada Lovelace", "email": "ada@example.com", "tier": "gold",
			"address": map[string]any{"street": "12 Analytical Row", "city": "London", "zip": "N1 9GU", "country": "GB"},
		},
		"meta": map[string]any{
			"region": "eu-west-1", "channel": "web",
			"tags":  []any{"spring-sale", "newsletter", "returning"},
			"flags": map[string]any{"gift": false, "priority": true, "fragile": false},
		},
	}
	var orders []any
	// Each order is about 330 bytes of JSON.
	for i := 0; len(orders)*330 < size; i++ {
		lines := make([]any, 3)
		for j := range lines {
			lines[j] = map[string]any{"sku": fmt.Sprintf("SKU-%04d-%d", i, j), "qty": int64(j + 1), "priceCents": int64(199 + 10*j + i%50)}
		}
		orders = append(orders, map[string]any{
			"id": fmt.Sprintf("ord-%05d", i), "status": []string{"NEW", "PAID", "SHIPPED"}[i%3],
			"express": i%5 == 0, "totalCents": int64(1000 + 37*i), "lines": lines,
			"note": "Leave at the door if nobody answers.",
		})
	}
	doc["orders"] = orders
	return doc
}
