package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/value"
)

// fixture is one ASL scenario in testdata/cases: a definition, its input,
// scripted task answers, and what must come out.
type fixture struct {
	Reason     string          `json:"reason"`
	Definition json.RawMessage `json:"definition"`
	Input      json.RawMessage `json:"input"`
	// Tasks scripts each Task state: the n-th call gets the n-th answer
	// (the last one repeats).
	Tasks    map[string][]taskAnswer `json:"tasks"`
	Expected struct {
		Status string          `json:"status"`
		Output json.RawMessage `json:"output"`
		Error  string          `json:"error"`
		Cause  *string         `json:"cause"`
	} `json:"expected"`
	// History lists the event types in order, when given.
	History []string `json:"history"`
	// TaskTimes lists, per Task state, the seconds after the start at which
	// each call happened (virtual clock).
	TaskTimes map[string][]float64 `json:"taskTimes"`
	// ElapsedSeconds is the virtual time the run took, when given.
	ElapsedSeconds *float64 `json:"elapsedSeconds"`
}

type taskAnswer struct {
	Return any `json:"return"`
	Throw  *struct {
		Error string `json:"error"`
		Cause string `json:"cause"`
	} `json:"throw"`
	// Block makes the task never answer (for timeouts).
	Block bool `json:"block"`
	// ReturnInput answers with the task's input.
	ReturnInput bool `json:"returnInput"`
	// ReturnToken answers with the task token.
	ReturnToken bool `json:"returnToken"`
}

func loadFixtures(t *testing.T) map[string]*fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string]*fixture{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fx fixture
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[filepath.Base(f)] = &fx
	}
	return out
}

func (fx *fixture) program(t *testing.T) *Program {
	t.Helper()
	return compileString(t, string(fx.Definition))
}

// script answers tasks from a fixture, recording call times.
type script struct {
	mu    sync.Mutex
	fx    *fixture
	calls map[string]int
	times map[string][]float64
	clock func() time.Time
}

func newScript(fx *fixture, clock func() time.Time) *script {
	return &script{fx: fx, calls: map[string]int{}, times: map[string][]float64{}, clock: clock}
}

// answer returns the scripted answer; block reports a task that never ends.
func (s *script) answer(req *TaskRequest) (out any, err error, block bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times[req.StateName] = append(s.times[req.StateName], s.clock().Sub(t0).Seconds())
	as := s.fx.Tasks[req.StateName]
	if len(as) == 0 {
		return nil, &Error{Name: "NoScript", Cause: "no answer scripted for " + req.StateName}, false
	}
	n := s.calls[req.StateName]
	s.calls[req.StateName]++
	if n >= len(as) {
		n = len(as) - 1
	}
	a := as[n]
	switch {
	case a.Block:
		return nil, nil, true
	case a.Throw != nil:
		return nil, &Error{Name: a.Throw.Error, Cause: a.Throw.Cause}, false
	case a.ReturnInput:
		return req.Input, nil, false
	case a.ReturnToken:
		return req.TaskToken, nil, false
	}
	v, _ := value.Parse(value.Marshal(a.Return))
	return normaliseNumbers(a.Return, v), nil, false
}

func normaliseNumbers(_ any, v any) any { return v }

func (s *script) RunTask(ctx context.Context, req *TaskRequest) (any, error) {
	out, err, block := s.answer(req)
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return out, err
}

// TestFixtures runs every testdata/cases fixture through Program.Run on a
// virtual clock.
func TestFixtures(t *testing.T) {
	for name, fx := range loadFixtures(t) {
		t.Run(name, func(t *testing.T) {
			p := fx.program(t)
			clock := NewVirtualClock(t0)
			sc := newScript(fx, clock.Now)
			input, err := value.Parse(fx.Input)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			n := 0
			res := p.Run(ctx, input, RunOptions{Clock: clock, Tasks: sc,
				UUID:   func() string { n++; return fmt.Sprintf("uuid-%d", n) },
				Int63n: func(k int64) int64 { return k / 2 }})
			checkFixture(t, fx, res.Status, res.Output, res.Error, res.Cause, res.History)
			if fx.TaskTimes != nil {
				sc.mu.Lock()
				got := sc.times
				sc.mu.Unlock()
				if !reflect.DeepEqual(got, fx.TaskTimes) {
					t.Errorf("%s\ntask times %v, want %v", fx.Reason, got, fx.TaskTimes)
				}
			}
			if fx.ElapsedSeconds != nil {
				if got := clock.Now().Sub(t0).Seconds(); got != *fx.ElapsedSeconds {
					t.Errorf("%s\nelapsed %vs, want %vs", fx.Reason, got, *fx.ElapsedSeconds)
				}
			}
		})
	}
}

func checkFixture(t *testing.T, fx *fixture, status string, output any, errName, cause string, history []HistoryEvent) {
	t.Helper()
	if status != fx.Expected.Status {
		t.Fatalf("%s\nstatus %s (%s: %s), want %s", fx.Reason, status, errName, cause, fx.Expected.Status)
	}
	if status == StatusSucceeded && len(fx.Expected.Output) > 0 {
		want, err := value.Parse(fx.Expected.Output)
		if err != nil {
			t.Fatal(err)
		}
		if !value.Equal(output, want) {
			t.Errorf("%s\noutput %s\nwant   %s", fx.Reason, value.Marshal(output), value.Marshal(want))
		}
	}
	if status != StatusSucceeded {
		if errName != fx.Expected.Error {
			t.Errorf("%s\nerror %q (cause %q), want %q", fx.Reason, errName, cause, fx.Expected.Error)
		}
		if fx.Expected.Cause != nil && cause != *fx.Expected.Cause {
			t.Errorf("%s\ncause %q\nwant  %q", fx.Reason, cause, *fx.Expected.Cause)
		}
	}
	if fx.History != nil {
		if got := eventTypes(history); !reflect.DeepEqual(got, fx.History) {
			t.Errorf("%s\nhistory %v\nwant    %v", fx.Reason, got, fx.History)
		}
	}
}

// drive runs an execution with Step directly: tasks are answered
// synchronously in action order, time jumps to the next deadline when
// nothing else can happen. With roundtrip, the execution state is
// serialised to JSON and loaded again between every two steps.
func drive(t *testing.T, p *Program, fx *fixture, roundtrip bool, maxTransitions int) (*Execution, []HistoryEvent) {
	t.Helper()
	input, err := value.Parse(fx.Input)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	sc := newScript(fx, func() time.Time { return now })
	n := 0
	env := &Env{UUID: func() string { n++; return fmt.Sprintf("uuid-%d", n) }, Int63n: func(k int64) int64 { return k / 2 }, MaxTransitions: maxTransitions}
	ex := p.NewExecution(input, ContextOverrides{}, now)
	var history []HistoryEvent
	queue := []Event{{Kind: EventStart}}
	for steps := 0; steps < 100000; steps++ {
		if roundtrip {
			b, err := ex.Marshal()
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if ex, err = UnmarshalExecution(b); err != nil {
				t.Fatalf("unmarshal: %v\n%s", err, b)
			}
		}
		var ev Event
		if len(queue) > 0 {
			ev, queue = queue[0], queue[1:]
		} else {
			at, ok := ex.NextDeadline()
			if !ok {
				t.Fatalf("stuck: no event and no deadline")
			}
			if at.After(now) {
				now = at
			}
			ev = Event{Kind: EventTimer}
		}
		events, actions, err := Step(p, ex, ev, now, env)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			// Keep a serialised copy: details must not change afterwards.
			b, _ := e.MarshalJSON()
			history = append(history, HistoryEvent{ID: e.ID, PreviousEventID: e.PreviousEventID, Timestamp: e.Timestamp, Type: e.Type, Details: rawDetails(b)})
		}
		if ex.Status != StatusRunning {
			return ex, history
		}
		for _, a := range actions {
			if a.Kind == ActionContinue {
				queue = append([]Event{{Kind: EventContinue}}, queue...)
				continue
			}
			if a.Kind != ActionRunTask {
				continue
			}
			out, err, block := sc.answer(a.Task)
			if block {
				continue
			}
			ev := Event{Kind: EventTaskSucceeded, Thread: a.Thread, Attempt: a.Attempt, Output: out}
			if err != nil {
				e := err.(*Error)
				ev = Event{Kind: EventTaskFailed, Thread: a.Thread, Attempt: a.Attempt, Error: e.Name, Cause: e.Cause}
			}
			queue = append(queue, ev)
		}
	}
	t.Fatal("too many steps")
	return nil, nil
}

type rawDetails []byte

// TestStepRoundTrip drives every fixture with Step twice, once keeping the
// execution state in memory and once serialising it to JSON and back
// between every two steps: results and histories must be identical.
func TestStepRoundTrip(t *testing.T) {
	names := []string{}
	fxs := loadFixtures(t)
	for n := range fxs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		fx := fxs[name]
		t.Run(name, func(t *testing.T) {
			p := fx.program(t)
			a, ha := drive(t, p, fx, false, 0)
			b, hb := drive(t, p, fx, true, 0)
			c, hc := drive(t, p, fx, true, 1)
			checkFixture(t, fx, a.Status, a.Output.V, a.Error, a.Cause, ha)
			if a.Status != b.Status || a.Error != b.Error || a.Cause != b.Cause || !value.Equal(a.Output.V, b.Output.V) {
				t.Fatalf("round trip changed the result: %s %s %s %s vs %s %s %s %s", a.Status, value.Marshal(a.Output.V), a.Error, a.Cause, b.Status, value.Marshal(b.Output.V), b.Error, b.Cause)
			}
			sameHistory(t, "round trip", ha, hb)
			// One state per Step, saved and loaded between steps, as the
			// controller runs it.
			if a.Status != c.Status || a.Error != c.Error || !value.Equal(a.Output.V, c.Output.V) {
				t.Fatalf("one transition per step changed the result: %s %s vs %s %s", a.Status, a.Error, c.Status, c.Error)
			}
			sameHistory(t, "one transition per step", ha, hc)
		})
	}
}

var _ = asl.Parse

func sameHistory(t *testing.T, what string, ha, hb []HistoryEvent) {
	t.Helper()
	if len(ha) != len(hb) {
		t.Fatalf("%s changed the history length: %d vs %d\n%v\n%v", what, len(ha), len(hb), eventTypes(ha), eventTypes(hb))
	}
	for i := range ha {
		x, _ := json.Marshal(ha[i].Details)
		y, _ := json.Marshal(hb[i].Details)
		if string(x) != string(y) {
			t.Fatalf("%s: event %d differs:\n%s\n%s", what, i+1, []byte(ha[i].Details.(rawDetails)), []byte(hb[i].Details.(rawDetails)))
		}
	}
}
