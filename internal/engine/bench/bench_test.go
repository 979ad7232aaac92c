package bench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
)

// A fixed start time and a clock that never sleeps keep runs comparable.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time                               { return c.t }
func (c *fixedClock) Sleep(ctx context.Context, t time.Time) error { return ctx.Err() }

var start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type workload struct {
	name  string
	file  string
	input func() any
	// check verifies a run's output, so that a benchmark of a broken engine
	// fails instead of timing the wrong thing.
	check func(out any) string
}

var (
	counter = workload{"counter", "testdata/counter.json", CounterInput, func(out any) string {
		if out != `{"count":5000}` {
			return "counter output " + value.MarshalString(out) + `, want "{\"count\":5000}"`
		}
		return ""
	}}
	inlineMap = workload{"map", "testdata/map.json", func() any { return MapInput(2000) }, func(out any) string {
		s, _ := out.(string)
		got, err := value.ParseString(s)
		arr, _ := got.([]any)
		if err != nil || len(arr) != 2000 {
			return "map output is not a JSON array of 2000 results: " + truncate(value.MarshalString(out))
		}
		want := map[string]any{"id": int64(1999), "total": int64(100 + 1999%7), "status": "priced"}
		if !value.Equal(arr[1999], want) {
			return "map result 1999 is " + value.MarshalString(arr[1999]) + ", want " + value.MarshalString(want)
		}
		return ""
	}}
	params = workload{"params", "testdata/params.json", func() any { return ParamsInput(50 * 1024) }, func(out any) string {
		m, _ := out.(map[string]any)
		orders, _ := m["orders"].(map[string]any)
		if orders == nil || !value.Equal(orders["count"], int64(len(ParamsInput(50 * 1024).(map[string]any)["orders"].([]any)))) {
			return "params output lacks orders.count: " + truncate(value.MarshalString(out))
		}
		return ""
	}}
)

func truncate(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// run runs w once and checks its result; it returns the number of states
// entered (counted from the history) when history is on.
func run(tb testing.TB, p *engine.Program, w workload, input any, history bool) int {
	res := p.Run(context.Background(), input, engine.RunOptions{
		Clock:     &fixedClock{start},
		NoHistory: !history,
		UUID:      func() string { return "00000000-0000-4000-8000-000000000000" },
	})
	if res.Status != engine.StatusSucceeded {
		tb.Fatalf("%s: %s %s: %s", w.name, res.Status, res.Error, res.Cause)
	}
	if msg := w.check(res.Output); msg != "" {
		tb.Fatal(msg)
	}
	entered := 0
	for _, ev := range res.History {
		if strings.HasSuffix(ev.Type, "StateEntered") {
			entered++
		}
	}
	return entered
}

// TestWorkloads runs each workload once, so that `go test` checks them.
func TestWorkloads(t *testing.T) {
	for _, w := range []workload{counter, inlineMap, params} {
		p, err := Load(w.file)
		if err != nil {
			t.Fatal(err)
		}
		n := run(t, p, w, w.input(), true)
		t.Logf("%s: %d states entered", w.name, n)
		if n == 0 {
			t.Errorf("%s: the history records no state entered", w.name)
		}
	}
	// The counter loop is 10,000 transitions (plus the final Report).
	p, _ := Load(counter.file)
	if n := run(t, p, counter, counter.input(), true); n != 10001 {
		t.Errorf("counter: %d states entered, want 10001", n)
	}
}

func benchmark(b *testing.B, w workload, history bool) {
	p, err := Load(w.file)
	if err != nil {
		b.Fatal(err)
	}
	input := w.input()
	if w.name == "params" {
		b.SetBytes(int64(value.Size(input)))
	}
	// Count the transitions once, with history on.
	transitions := run(b, p, w, input, true)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		run(b, p, w, input, history)
	}
	b.ReportMetric(float64(transitions)*float64(b.N)/b.Elapsed().Seconds(), "transitions/s")
}

// BenchmarkCounterLoop: 10,000 Pass/Choice transitions with an intrinsic
// in each Pass, history recording on.
func BenchmarkCounterLoop(b *testing.B) { benchmark(b, counter, true) }

// BenchmarkCounterLoopNoHistory is the same loop with history off.
func BenchmarkCounterLoopNoHistory(b *testing.B) { benchmark(b, counter, false) }

// BenchmarkInlineMap: a 2,000-item INLINE Map of two Pass states, history on.
func BenchmarkInlineMap(b *testing.B) { benchmark(b, inlineMap, true) }

// BenchmarkInlineMapNoHistory is the same Map with history off.
func BenchmarkInlineMapNoHistory(b *testing.B) { benchmark(b, inlineMap, false) }

// BenchmarkParametersHeavy: one Pass with many .$ fields over a 50 KB input.
func BenchmarkParametersHeavy(b *testing.B) { benchmark(b, params, true) }
