package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine"
)

// runCLI runs the CLI in-process and returns the exit code and the streams.
func runCLI(stdin string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	env := &Env{Prog: "kstates", Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Ctx: context.Background()}
	code = Dispatch(env, args)
	return code, out.String(), errOut.String()
}

func TestFlagsMayFollowTheFile(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantPos []string
		wantO   string
	}{
		{[]string{"f.yaml", "-o", "json"}, []string{"f.yaml"}, "json"},
		{[]string{"-o", "json", "f.yaml"}, []string{"f.yaml"}, "json"},
		{[]string{"--o=json", "f.yaml", "g"}, []string{"f.yaml", "g"}, "json"},
		{[]string{"f.yaml", "--", "-o"}, []string{"f.yaml", "-o"}, "text"},
	} {
		env := &Env{Stderr: &bytes.Buffer{}}
		fs := newFlagSet(env, "x", "")
		o := fs.String("o", "text", "")
		pos, err := parseArgs(fs, tc.args)
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if strings.Join(pos, "|") != strings.Join(tc.wantPos, "|") || *o != tc.wantO {
			t.Errorf("%v: got positional %q and -o %q, want %q and %q", tc.args, pos, *o, tc.wantPos, tc.wantO)
		}
	}
}

func TestUsageErrorsExitWithTwo(t *testing.T) {
	for _, tc := range []struct {
		reason string
		args   []string
		want   string
	}{
		{"no command", nil, "Usage: kstates COMMAND"},
		{"an unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"validate without a file", []string{"validate"}, "expected one FILE argument"},
		{"validate with a bad type", []string{"validate", "--type", "FAST", "x.json"}, `--type must be STANDARD or EXPRESS, not "FAST"`},
		{"validate with an unknown flag", []string{"validate", "--bogus", "x.json"}, "flag provided but not defined: -bogus"},
		{"validate of a missing file", []string{"validate", "/nonexistent/x.json"}, "reading definition"},
		{"run with two files", []string{"run", "a", "b"}, "expected one FILE argument"},
		{"run with a bad output", []string{"run", "a", "-o", "yaml"}, `-o must be text or json, not "yaml"`},
		{"run with a bad clock", []string{"run", "a", "--clock", "fast"}, `--clock must be virtual or real`},
		{"run with both inputs", []string{"run", "a", "--input", "{}", "--input-file", "f"}, "not both"},
		{"run with a test case and no mocks", []string{"run", "a", "--test-case", "x"}, "--test-case needs --mocks"},
		{"run with invalid input JSON", []string{"run", "a", "--input", "{bad"}, "--input: invalid JSON"},
		{"run with input JSON that made the parser panic", []string{"run", "a", "--input", `{"000000000": {"00":}, "": "0"`}, "--input: invalid JSON"},
		{"run with a missing input file", []string{"run", "a", "--input-file", "/nonexistent/in.json"}, "--input-file:"},
		{"run with an unknown context field", []string{"run", "a", "--context", `{"Execution": {"Nmae": "x"}}`}, "unknown field(s) Execution.Nmae"},
		{"run with a missing mock file", []string{"run", "a", "--mocks", "/nonexistent/m.json"}, "--mocks:"},
		{"run with a bad mock file", []string{"run", "a", "--mocks", "-"}, "--mocks -: /A: must be a list"},
		{"run with two files from stdin", []string{"run", "-", "--mocks", "-"}, "only one of the definition, --input-file and --mocks"},
	} {
		code, _, stderr := runCLI(`{"A": 1}`, tc.args...)
		if code != ExitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", tc.reason, code, stderr, tc.want)
		}
	}
}

func TestHelpExitsWithZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"run", "-h"}, {"validate", "--help"}, {"help", "run"}} {
		if code, _, _ := runCLI("", args...); code != ExitOK {
			t.Errorf("%v: exit %d, want 0", args, code)
		}
	}
}

func TestContextOverrides(t *testing.T) {
	o, err := parseContext(`{"Execution": {"Id": "arn:x", "Name": "n1", "RoleArn": "arn:role", "StartTime": "2024-05-06T07:08:09.123Z"},
		"StateMachine": {"Id": "arn:sm", "Name": "Orders"}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.ContextOverrides{ExecutionID: "arn:x", ExecutionName: "n1", RoleArn: "arn:role",
		StartTime: time.Date(2024, 5, 6, 7, 8, 9, 123e6, time.UTC), StateMachineID: "arn:sm", StateMachineName: "Orders"}
	if o.ExecutionID != want.ExecutionID || o.ExecutionName != want.ExecutionName || o.RoleArn != want.RoleArn ||
		!o.StartTime.Equal(want.StartTime) || o.StateMachineID != want.StateMachineID || o.StateMachineName != want.StateMachineName {
		t.Errorf("got %+v, want %+v", o, want)
	}
	for _, tc := range []struct{ doc, want string }{
		{`[]`, "must be a JSON object, not array"},
		{`{"Execution": "x"}`, "Execution must be an object, not string"},
		{`{"Execution": {"Name": 3}}`, "Execution.Name must be a string, not number"},
		{`{"Execution": {"StartTime": "yesterday"}}`, "Execution.StartTime must be an RFC 3339 timestamp"},
		{`{"State": {"Name": "x"}, "Execution": {"Input": 1}}`, "unknown field(s) Execution.Input, State"},
		{`{`, "invalid JSON"},
	} {
		if _, err := parseContext(tc.doc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.doc, err, tc.want)
		}
	}
}

func TestHistoryTableNamesStatesAndSummarisesDetails(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	in := map[string]any{"a": int64(1)}
	out := map[string]any{"b": int64(2)}
	events := []engine.HistoryEvent{
		{ID: 1, Timestamp: t0, Type: "ExecutionStarted", Details: &engine.ExecutionStartedDetails{Input: in}},
		{ID: 2, PreviousEventID: 1, Timestamp: t0.Add(3 * time.Millisecond), Type: "TaskStateEntered", Details: &engine.StateEnteredDetails{Name: "Charge", Input: in}},
		{ID: 3, PreviousEventID: 2, Timestamp: t0.Add(5 * time.Millisecond), Type: "TaskScheduled", Details: &engine.TaskScheduledDetails{Resource: "arn:aws:lambda:x", Parameters: in}},
		{ID: 4, PreviousEventID: 3, Timestamp: t0.Add(2 * time.Second), Type: "TaskFailed", Details: &engine.ErrorDetails{Error: "Declined", Cause: "no\nmoney"}},
		{ID: 5, PreviousEventID: 4, Timestamp: t0.Add(2 * time.Second), Type: "TaskStateExited", Details: &engine.StateExitedDetails{Name: "Charge", Output: out}},
		{ID: 6, PreviousEventID: 5, Timestamp: t0.Add(2 * time.Second), Type: "ParallelStateEntered", Details: &engine.StateEnteredDetails{Name: "Fan", Input: in}},
		{ID: 7, PreviousEventID: 6, Timestamp: t0.Add(2 * time.Second), Type: "ParallelStateStarted"},
		{ID: 8, PreviousEventID: 7, Timestamp: t0.Add(2 * time.Second), Type: "PassStateEntered", Details: &engine.StateEnteredDetails{Name: "Inner", Input: in}},
		{ID: 9, PreviousEventID: 8, Timestamp: t0.Add(2 * time.Second), Type: "PassStateExited", Details: &engine.StateExitedDetails{Name: "Inner", Output: in}},
		{ID: 10, PreviousEventID: 9, Timestamp: t0.Add(2 * time.Second), Type: "ParallelStateSucceeded"},
		{ID: 11, PreviousEventID: 10, Timestamp: t0.Add(2 * time.Second), Type: "ParallelStateExited", Details: &engine.StateExitedDetails{Name: "Fan", Output: out}},
		{ID: 12, PreviousEventID: 11, Timestamp: t0.Add(2 * time.Second), Type: "ExecutionSucceeded", Details: map[string]any{"output": `{"b":2}`}},
	}
	rows := historyRows(events)
	want := []historyRow{
		{"1", "", "0", "ExecutionStarted", "", `input {"a":1}`},
		{"2", "1", "3", "TaskStateEntered", "Charge", `input {"a":1}`},
		{"3", "2", "5", "TaskScheduled", "Charge", `arn:aws:lambda:x {"a":1}`},
		{"4", "3", "2000", "TaskFailed", "Charge", "Declined: no money"},
		{"5", "4", "2000", "TaskStateExited", "Charge", `output {"b":2}`},
		{"6", "5", "2000", "ParallelStateEntered", "Fan", `input {"a":1}`},
		{"7", "6", "2000", "ParallelStateStarted", "Fan", ""},
		{"8", "7", "2000", "PassStateEntered", "Inner", `input {"a":1}`},
		{"9", "8", "2000", "PassStateExited", "Inner", `output {"a":1}`},
		{"10", "9", "2000", "ParallelStateSucceeded", "Fan", ""},
		{"11", "10", "2000", "ParallelStateExited", "Fan", `output {"b":2}`},
		{"12", "11", "2000", "ExecutionSucceeded", "", `output {"b":2}`},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i, rows[i], want[i])
		}
	}
	var b bytes.Buffer
	writeHistoryTable(&b, events)
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 13 || !strings.HasPrefix(lines[0], "ID") {
		t.Errorf("table:\n%s", b.String())
	}
}
