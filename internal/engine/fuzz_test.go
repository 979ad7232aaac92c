package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/value"
)

// FuzzRun parses, compiles and runs arbitrary definitions and inputs on a
// virtual clock with a task handler that echoes or fails: nothing may panic
// and every run must end.
func FuzzRun(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			continue
		}
		var fx fixture
		if json.Unmarshal(b, &fx) == nil {
			f.Add([]byte(fx.Definition), []byte(fx.Input))
		}
	}
	f.Fuzz(func(t *testing.T, def, input []byte) {
		d, diags := asl.Parse(def, asl.Options{})
		if d == nil {
			return
		}
		for _, dg := range diags {
			if dg.Severity == asl.SeverityError {
				return
			}
		}
		p, err := Compile(d)
		if err != nil {
			return
		}
		in, err := value.Parse(input)
		if err != nil {
			in = map[string]any{}
		}
		var calls atomic.Int64
		h := TaskHandlerFunc(func(ctx context.Context, req *TaskRequest) (any, error) {
			if calls.Add(1)%3 == 0 {
				return nil, &Error{Name: "Fuzz", Cause: "third call"}
			}
			return req.Input, nil
		})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res := p.Run(ctx, in, RunOptions{Clock: NewVirtualClock(t0), Tasks: h})
		if res.Status == StatusRunning {
			t.Fatalf("run returned while RUNNING")
		}
		if _, err := json.Marshal(res.History); err != nil {
			t.Fatalf("history: %v", err)
		}
	})
}
