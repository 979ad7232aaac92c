package engine

import (
	"context"
	"testing"
)

// BenchmarkCounterLoop reports Pass/Choice transitions per second with
// history recording on.
func BenchmarkCounterLoop(b *testing.B) {
	p := compileFile(b, "counter_loop.json")
	input := map[string]any{"i": int64(0), "n": int64(5000)}
	clock := NewVirtualClock(t0)
	b.ReportAllocs()
	b.ResetTimer()
	transitions := 0
	for i := 0; i < b.N; i++ {
		res := p.Run(context.Background(), input, RunOptions{Clock: clock})
		if res.Status != StatusSucceeded {
			b.Fatalf("%s %s %s", res.Status, res.Error, res.Cause)
		}
		transitions += 10001
	}
	b.ReportMetric(float64(transitions)/b.Elapsed().Seconds(), "transitions/s")
}
