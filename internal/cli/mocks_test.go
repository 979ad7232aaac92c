package cli

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
)

// invoke calls the handler for state and returns the result or the named error.
func invoke(t *testing.T, m *MockTasks, state string) (any, *engine.Error) {
	t.Helper()
	out, err := m.RunTask(context.Background(), &engine.TaskRequest{StateName: state})
	if err == nil {
		return out, nil
	}
	var e *engine.Error
	if !errors.As(err, &e) {
		t.Fatalf("RunTask(%s) returned %T %v, want *engine.Error", state, err, err)
	}
	return nil, e
}

func TestSimpleMocksTakeTheNextEntryAndRepeatTheLast(t *testing.T) {
	m, err := ParseMocks([]byte(`{"A": [
		{"Throw": {"Error": "Busy", "Cause": "try later"}},
		{"Return": {"n": 1}},
		{"Return": {"n": 2}}]}`), "m.json", MockSelection{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, e := invoke(t, m, "A")
	if e == nil || e.Name != "Busy" || e.Cause != "try later" {
		t.Fatalf("first call: got error %v, want Busy: try later", e)
	}
	for i, want := range []string{`{"n":1}`, `{"n":2}`, `{"n":2}`, `{"n":2}`} {
		out, e := invoke(t, m, "A")
		if e != nil {
			t.Fatalf("call %d: unexpected error %v", i+2, e)
		}
		if got := value.MarshalString(out); got != want {
			t.Errorf("call %d: got %s, want %s", i+2, got, want)
		}
	}
	if got := m.Calls("A"); got != 5 {
		t.Errorf("Calls(A) = %d, want 5", got)
	}
}

func TestReturnedValuesAreCopies(t *testing.T) {
	m, err := ParseMocks([]byte(`{"A": [{"Return": {"list": [1]}}]}`), "m.json", MockSelection{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := invoke(t, m, "A")
	out.(map[string]any)["list"].([]any)[0] = int64(99)
	again, _ := invoke(t, m, "A")
	if got := value.MarshalString(again); got != `{"list":[1]}` {
		t.Errorf("a caller's change leaked into the mock: %s", got)
	}
}

func TestAStateWithoutAMockFailsWithTaskFailed(t *testing.T) {
	for _, tc := range []struct {
		reason string
		m      *MockTasks
		want   string
	}{
		{"no mock file at all", noMocks(nil), `no mock was given for state "Charge" (no --mocks file given)`},
		{"a mock file without the state", mustMocks(t, `{"Other": [{"Return": 1}]}`, MockSelection{}), `no mock was given for state "Charge" in m.json`},
	} {
		_, e := invoke(t, tc.m, "Charge")
		if e == nil || e.Name != "States.TaskFailed" || e.Cause != tc.want {
			t.Errorf("%s: got %v, want States.TaskFailed: %s", tc.reason, e, tc.want)
		}
	}
}

func TestDelayAdvancesTheClock(t *testing.T) {
	start := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := engine.NewVirtualClock(start)
	m, err := ParseMocks([]byte(`{"A": [{"Return": 1, "Delay": 2.5}, {"Return": 2}]}`), "m.json", MockSelection{}, clock)
	if err != nil {
		t.Fatal(err)
	}
	invoke(t, m, "A")
	if got := clock.Now().Sub(start); got != 2500*time.Millisecond {
		t.Errorf("after a 2.5 s delay the clock moved %v", got)
	}
	invoke(t, m, "A")
	if got := clock.Now().Sub(start); got != 2500*time.Millisecond {
		t.Errorf("an entry without delay moved the clock to %v", got)
	}
}

const sfnLocal = `{
  "StateMachines": {
    "Orders": {"TestCases": {
      "Happy": {"Lambda": "Retry"},
      "Sad": {"Lambda": "Fails"}}},
    "Other": {"TestCases": {"Only": {"X": "Fails"}}}
  },
  "MockedResponses": {
    "Retry": {
      "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
      "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
      "3": {"Return": {"StatusCode": 200}}},
    "Fails": {"0": {"Throw": {"Error": "Boom"}}}
  }
}`

func TestStepFunctionsLocalMockRangesAndTestCases(t *testing.T) {
	m := mustMocks(t, sfnLocal, MockSelection{StateMachine: "Orders", TestCase: "Happy"})
	for i, want := range []string{"Lambda.ResourceNotReadyException", "Lambda.TimeoutException", "Lambda.TimeoutException", ""} {
		out, e := invoke(t, m, "Lambda")
		switch {
		case want == "" && e != nil:
			t.Fatalf("invocation %d: unexpected error %v", i, e)
		case want == "" && value.MarshalString(out) != `{"StatusCode":200}`:
			t.Fatalf("invocation %d: got %s", i, value.MarshalString(out))
		case want != "" && (e == nil || e.Name != want):
			t.Fatalf("invocation %d: got %v, want %s", i, e, want)
		}
	}
	// Past the last index there is no response (no repetition in this format).
	_, e := invoke(t, m, "Lambda")
	if e == nil || e.Name != "States.TaskFailed" || !strings.Contains(e.Cause, `no entry for invocation 4 of state "Lambda"`) {
		t.Errorf("invocation 4: got %v", e)
	}

	sad := mustMocks(t, sfnLocal, MockSelection{StateMachine: "Orders", TestCase: "Sad"})
	if _, e := invoke(t, sad, "Lambda"); e == nil || e.Name != "Boom" {
		t.Errorf("test case Sad: got %v, want Boom", e)
	}
	// A single state machine with a single test case needs no selection.
	only := mustMocks(t, strings.Replace(sfnLocal, `"Orders": {"TestCases": {
      "Happy": {"Lambda": "Retry"},
      "Sad": {"Lambda": "Fails"}}},`, "", 1), MockSelection{})
	if _, e := invoke(t, only, "X"); e == nil || e.Name != "Boom" {
		t.Errorf("only test case: got %v, want Boom", e)
	}
}

func TestBadMockFilesGetLocatedErrors(t *testing.T) {
	for _, tc := range []struct {
		reason string
		doc    string
		sel    MockSelection
		want   string
	}{
		{"not JSON", `{"A": [`, MockSelection{}, "m.json:"},
		{"not an object", `[1]`, MockSelection{}, "must be a JSON object, not array"},
		{"a state with an object instead of a list", `{"A": {"Return": 1}}`, MockSelection{}, "/A: must be a list of responses"},
		{"an empty list", `{"A": []}`, MockSelection{}, "/A: the list of responses is empty"},
		{"both Return and Throw", `{"A": [{"Return": 1, "Throw": {"Error": "E"}}]}`, MockSelection{}, "/A/0: has both Return and Throw"},
		{"neither Return nor Throw", `{"A": [{"Delay": 1}]}`, MockSelection{}, "/A/0: needs Return or Throw"},
		{"an unknown field", `{"A": [{"Retrun": 1}]}`, MockSelection{}, "/A/0/Retrun: unknown field"},
		{"Throw without Error", `{"A": [{"Throw": {"Cause": "c"}}]}`, MockSelection{}, "/A/0/Throw/Error: an error name is required"},
		{"Throw Error not a string", `{"A": [{"Throw": {"Error": 5}}]}`, MockSelection{}, "/A/0/Throw/Error: must be a string, not number"},
		{"a negative Delay", `{"A": [{"Return": 1, "Delay": -1}]}`, MockSelection{}, "/A/0/Delay: must be a number of seconds >= 0"},
		{"a string Delay", `{"A": [{"Return": 1, "Delay": "1"}]}`, MockSelection{}, "/A/0/Delay: must be a number of seconds >= 0"},
		{"a pointer-escaped state name", `{"a/b": 3}`, MockSelection{}, "/a~1b: must be a list"},
		{"--test-case with a kstates file", `{"A": [{"Return": 1}]}`, MockSelection{TestCase: "x"}, "--test-case applies to Step Functions Local mock files"},
		{"several machines and none named", sfnLocal, MockSelection{}, "/StateMachines: has 2 state machines (Orders, Other)"},
		{"an unknown machine", sfnLocal, MockSelection{StateMachine: "Nope"}, `/StateMachines: no state machine "Nope" (have Orders, Other)`},
		{"several test cases and none named", sfnLocal, MockSelection{StateMachine: "Orders"}, "/StateMachines/Orders/TestCases: has 2 test cases (Happy, Sad); choose one with --test-case"},
		{"an unknown test case", sfnLocal, MockSelection{StateMachine: "Orders", TestCase: "Nope"}, `no test case "Nope" (have Happy, Sad)`},
		{"a test case naming a missing response",
			`{"StateMachines": {"S": {"TestCases": {"T": {"A": "Missing"}}}}, "MockedResponses": {}}`, MockSelection{},
			`/StateMachines/S/TestCases/T/A: no mocked response "Missing" in /MockedResponses`},
		{"a bad range",
			`{"StateMachines": {"S": {"TestCases": {"T": {}}}}, "MockedResponses": {"R": {"2-1": {"Return": 1}}}}`, MockSelection{},
			`/MockedResponses/R/2-1: invocation range "2-1" ends before it starts`},
		{"a non-numeric index",
			`{"StateMachines": {"S": {"TestCases": {"T": {}}}}, "MockedResponses": {"R": {"first": {"Return": 1}}}}`, MockSelection{},
			`/MockedResponses/R/first: invocation index must be a number`},
		{"overlapping ranges",
			`{"StateMachines": {"S": {"TestCases": {"T": {}}}}, "MockedResponses": {"R": {"0-2": {"Return": 1}, "2": {"Return": 2}}}}`, MockSelection{},
			`/MockedResponses/R: invocation ranges overlap at invocation 2`},
		{"an unknown top-level field next to StateMachines",
			`{"StateMachines": {}, "MockedResponses": {}, "Extra": 1}`, MockSelection{},
			`/Extra: unknown field`},
		{"StateMachines not an object", `{"StateMachines": [], "MockedResponses": {}}`, MockSelection{}, "/StateMachines: must be an object, not array"},
	} {
		_, err := ParseMocks([]byte(tc.doc), "m.json", tc.sel, nil)
		if err == nil {
			t.Errorf("%s: no error, want one containing %q", tc.reason, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "m.json") {
			t.Errorf("%s: error %q, want it to start with the file name and contain %q", tc.reason, err, tc.want)
		}
	}
}

func TestMocksMayBeYAML(t *testing.T) {
	m := mustMocks(t, "A:\n  - Return: {count: 1}\n", MockSelection{})
	out, e := invoke(t, m, "A")
	if e != nil || value.MarshalString(out) != `{"count":1}` {
		t.Errorf("got %v %v", value.MarshalString(out), e)
	}
}

func TestTheExampleMockFilesParse(t *testing.T) {
	for _, f := range []struct {
		file string
		sel  MockSelection
	}{
		{"mocks.json", MockSelection{}},
		{"mocks-declined.json", MockSelection{}},
		{"MockConfigFile.json", MockSelection{TestCase: "HappyPath"}},
		{"MockConfigFile.json", MockSelection{TestCase: "PaymentDeclined"}},
		{"MockConfigFile.json", MockSelection{TestCase: "Fraud"}},
		{"MockConfigFile.json", MockSelection{TestCase: "Approved"}},
		{"MockConfigFile.json", MockSelection{TestCase: "NotApproved"}},
	} {
		data, err := os.ReadFile("../../examples/order/" + f.file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseMocks(data, f.file, f.sel, nil); err != nil {
			t.Errorf("%s %+v: %v", f.file, f.sel, err)
		}
	}
}

func mustMocks(t *testing.T, doc string, sel MockSelection) *MockTasks {
	t.Helper()
	m, err := ParseMocks([]byte(doc), "m.json", sel, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
