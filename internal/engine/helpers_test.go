package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/value"
)

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// compileString parses and compiles a definition, failing the test on any
// diagnostic.
func compileString(tb testing.TB, src string) *Program {
	tb.Helper()
	def, diags := asl.Parse([]byte(src), asl.Options{})
	for _, d := range diags {
		if d.Severity == asl.SeverityError {
			tb.Fatalf("definition: %s %s %s", d.Code, d.Location, d.Message)
		}
	}
	p, err := Compile(def)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func compileFile(tb testing.TB, name string) *Program {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return compileString(tb, string(b))
}

func mustValue(tb testing.TB, s string) any {
	tb.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func runVirtual(tb testing.TB, p *Program, input string, tasks TaskHandler) (*Result, *VirtualClock) {
	tb.Helper()
	clock := NewVirtualClock(t0)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n := 0
	res := p.Run(ctx, mustValue(tb, input), RunOptions{
		Clock: clock, Tasks: tasks,
		UUID:   func() string { n++; return "uuid-" + string(rune('0'+n%10)) },
		Int63n: func(k int64) int64 { return k / 2 },
	})
	return res, clock
}

func eventTypes(h []HistoryEvent) []string {
	out := make([]string, len(h))
	for i, e := range h {
		out[i] = e.Type
	}
	return out
}
