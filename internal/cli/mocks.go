package cli

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
	"sigs.k8s.io/yaml"
)

// Mock files give Task states their results without running anything. Two
// formats are read:
//
// The kstates format maps a state name to a list of responses; the n-th
// invocation of the state (retries included) takes the n-th entry and the
// last entry repeats:
//
//	{"CheckInventory": [
//	   {"Throw": {"Error": "InventoryUnavailable", "Cause": "warehouse busy"}},
//	   {"Return": {"inStock": true}, "Delay": 2}]}
//
// Step Functions Local's MockConfigFile format names test cases per state
// machine and responses by invocation index or range ("0", "1-2"):
//
//	{"StateMachines": {"Order": {"TestCases": {"HappyPath": {"CheckInventory": "InStock"}}}},
//	 "MockedResponses": {"InStock": {"0": {"Return": {"inStock": true}}}}}
//
// An invocation past the last index of a MockedResponse is an error there.
// "Delay" (seconds, kstates extension, both formats) moves the run's clock
// forward before the response is given.

// mockResponse is one mocked task result: a Return value or a thrown error.
type mockResponse struct {
	Return any
	Throw  *engine.Error // nil for a Return
	Delay  time.Duration
}

// mockRange gives resp to invocations from..to (inclusive, from 0).
type mockRange struct {
	from, to int
	resp     mockResponse
}

// mockSeq is the responses for one state.
type mockSeq struct {
	// name is the MockedResponse name (Step Functions Local format), for
	// messages.
	name   string
	ranges []mockRange // sorted, not overlapping
	// repeatLast makes invocations past the end take the last response.
	repeatLast bool
}

func (s *mockSeq) at(i int) (mockResponse, bool) {
	for _, r := range s.ranges {
		if i >= r.from && i <= r.to {
			return r.resp, true
		}
	}
	if s.repeatLast && len(s.ranges) > 0 {
		last := s.ranges[len(s.ranges)-1]
		if i > last.to {
			return last.resp, true
		}
	}
	return mockResponse{}, false
}

// MockTasks is an engine.TaskHandler answering Task states from a mock file.
// It is safe for concurrent use (Parallel branches, Map iterations).
type MockTasks struct {
	// source describes where the mocks came from, for messages.
	source string
	states map[string]*mockSeq
	clock  engine.Clock

	mu    sync.Mutex
	calls map[string]int
}

// MockSelection picks the test case of a Step Functions Local mock file.
type MockSelection struct {
	// StateMachine names the entry of "StateMachines"; empty means the file's
	// only one.
	StateMachine string
	// TestCase names the test case; empty means the state machine's only one.
	TestCase string
}

// noMocks returns a handler that fails every task for want of a mock.
func noMocks(clock engine.Clock) *MockTasks {
	return &MockTasks{states: map[string]*mockSeq{}, clock: clock, calls: map[string]int{}}
}

// Calls returns how many times the state's task was invoked.
func (m *MockTasks) Calls(state string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls[state]
}

// RunTask implements engine.TaskHandler: it sleeps the response's Delay on
// the handler's clock, then answers.
func (m *MockTasks) RunTask(ctx context.Context, req *engine.TaskRequest) (any, error) {
	out, delay, err := m.answer(req)
	if delay > 0 && m.clock != nil {
		if err := m.clock.Sleep(ctx, m.clock.Now().Add(delay)); err != nil {
			return nil, err
		}
	}
	return out, err
}

// answer returns the mocked result or error of the request's state for
// this invocation, and the delay before it is given.
func (m *MockTasks) answer(req *engine.TaskRequest) (any, time.Duration, error) {
	m.mu.Lock()
	seq := m.states[req.StateName]
	n := m.calls[req.StateName]
	m.calls[req.StateName] = n + 1
	m.mu.Unlock()
	if seq == nil {
		where := " (no --mocks file given)"
		if m.source != "" {
			where = " in " + m.source
		}
		return nil, 0, &engine.Error{Name: "States.TaskFailed", Cause: fmt.Sprintf("no mock was given for state %q%s", req.StateName, where)}
	}
	resp, ok := seq.at(n)
	if !ok {
		return nil, 0, &engine.Error{Name: "States.TaskFailed", Cause: fmt.Sprintf(
			"mocked response %q in %s has no entry for invocation %d of state %q", seq.name, m.source, n, req.StateName)}
	}
	if resp.Throw != nil {
		e := *resp.Throw
		return nil, resp.Delay, &e
	}
	return value.Copy(resp.Return), resp.Delay, nil
}

// ParseMocks reads a mock file (JSON or YAML) in either format. source names
// the file in messages; clock serves the Delay fields.
func ParseMocks(data []byte, source string, sel MockSelection, clock engine.Clock) (*MockTasks, error) {
	doc, err := parseJSONOrYAML(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", source, err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a mock file must be a JSON object, not %s", source, value.TypeName(doc))
	}
	m := &MockTasks{source: source, clock: clock, calls: map[string]int{}}
	_, hasSM := top["StateMachines"]
	_, hasMR := top["MockedResponses"]
	if hasSM || hasMR {
		m.states, err = parseSFNLocalMocks(top, sel)
	} else {
		if sel.TestCase != "" {
			return nil, fmt.Errorf("%s: --test-case applies to Step Functions Local mock files (with \"StateMachines\" and \"MockedResponses\"); this is a kstates mock file", source)
		}
		m.states, err = parseSimpleMocks(top)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", source, err)
	}
	return m, nil
}

// parseSimpleMocks reads {"State": [response, ...]}.
func parseSimpleMocks(top map[string]any) (map[string]*mockSeq, error) {
	states := make(map[string]*mockSeq, len(top))
	for _, state := range sortedKeys(top) {
		ptr := "/" + escapePointer(state)
		list, ok := top[state].([]any)
		if !ok {
			return nil, fmt.Errorf("%s: must be a list of responses ({\"Return\": ...} or {\"Throw\": {...}}), not %s", ptr, value.TypeName(top[state]))
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("%s: the list of responses is empty", ptr)
		}
		seq := &mockSeq{name: state, repeatLast: true}
		for i, e := range list {
			resp, err := parseMockResponse(e, ptr+"/"+strconv.Itoa(i))
			if err != nil {
				return nil, err
			}
			seq.ranges = append(seq.ranges, mockRange{from: i, to: i, resp: resp})
		}
		states[state] = seq
	}
	return states, nil
}

// parseSFNLocalMocks reads Step Functions Local's MockConfigFile and returns
// the responses of the selected test case.
func parseSFNLocalMocks(top map[string]any, sel MockSelection) (map[string]*mockSeq, error) {
	for _, k := range sortedKeys(top) {
		if k != "StateMachines" && k != "MockedResponses" {
			return nil, fmt.Errorf("/%s: unknown field (a Step Functions Local mock file has StateMachines and MockedResponses)", escapePointer(k))
		}
	}
	machines, ok := top["StateMachines"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("/StateMachines: must be an object, not %s", value.TypeName(top["StateMachines"]))
	}
	responses, ok := top["MockedResponses"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("/MockedResponses: must be an object, not %s", value.TypeName(top["MockedResponses"]))
	}
	// Parse every response, so that a mistake anywhere is reported.
	parsed := make(map[string]*mockSeq, len(responses))
	for _, name := range sortedKeys(responses) {
		seq, err := parseMockedResponse(name, responses[name], "/MockedResponses/"+escapePointer(name))
		if err != nil {
			return nil, err
		}
		parsed[name] = seq
	}

	smName := sel.StateMachine
	if smName == "" {
		if len(machines) != 1 {
			return nil, fmt.Errorf("/StateMachines: has %d state machines (%s); name one with --context '{\"StateMachine\":{\"Name\":\"...\"}}'", len(machines), strings.Join(sortedKeys(machines), ", "))
		}
		smName = sortedKeys(machines)[0]
	}
	smv, ok := machines[smName]
	if !ok {
		return nil, fmt.Errorf("/StateMachines: no state machine %q (have %s)", smName, strings.Join(sortedKeys(machines), ", "))
	}
	smPtr := "/StateMachines/" + escapePointer(smName)
	sm, ok := smv.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be an object, not %s", smPtr, value.TypeName(smv))
	}
	for _, k := range sortedKeys(sm) {
		if k != "TestCases" {
			return nil, fmt.Errorf("%s/%s: unknown field (expected TestCases)", smPtr, escapePointer(k))
		}
	}
	cases, ok := sm["TestCases"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s/TestCases: must be an object, not %s", smPtr, value.TypeName(sm["TestCases"]))
	}
	tcName := sel.TestCase
	if tcName == "" {
		if len(cases) != 1 {
			return nil, fmt.Errorf("%s/TestCases: has %d test cases (%s); choose one with --test-case", smPtr, len(cases), strings.Join(sortedKeys(cases), ", "))
		}
		tcName = sortedKeys(cases)[0]
	}
	tcv, ok := cases[tcName]
	if !ok {
		return nil, fmt.Errorf("%s/TestCases: no test case %q (have %s)", smPtr, tcName, strings.Join(sortedKeys(cases), ", "))
	}
	tcPtr := smPtr + "/TestCases/" + escapePointer(tcName)
	tc, ok := tcv.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be an object mapping state names to mocked response names, not %s", tcPtr, value.TypeName(tcv))
	}
	states := make(map[string]*mockSeq, len(tc))
	for _, state := range sortedKeys(tc) {
		rn, ok := tc[state].(string)
		if !ok {
			return nil, fmt.Errorf("%s/%s: must be the name of a mocked response, not %s", tcPtr, escapePointer(state), value.TypeName(tc[state]))
		}
		seq, ok := parsed[rn]
		if !ok {
			return nil, fmt.Errorf("%s/%s: no mocked response %q in /MockedResponses", tcPtr, escapePointer(state), rn)
		}
		states[state] = seq
	}
	return states, nil
}

// parseMockedResponse reads {"0": response, "1-2": response, ...}.
func parseMockedResponse(name string, v any, ptr string) (*mockSeq, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: must be an object of invocation indexes (\"0\", \"1-2\"), not %s", ptr, value.TypeName(v))
	}
	if len(obj) == 0 {
		return nil, fmt.Errorf("%s: has no responses", ptr)
	}
	seq := &mockSeq{name: name}
	for _, key := range sortedKeys(obj) {
		kptr := ptr + "/" + escapePointer(key)
		from, to, err := parseInvocationRange(key)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", kptr, err)
		}
		resp, err := parseMockResponse(obj[key], kptr)
		if err != nil {
			return nil, err
		}
		seq.ranges = append(seq.ranges, mockRange{from: from, to: to, resp: resp})
	}
	sort.Slice(seq.ranges, func(i, j int) bool { return seq.ranges[i].from < seq.ranges[j].from })
	for i := 1; i < len(seq.ranges); i++ {
		if seq.ranges[i].from <= seq.ranges[i-1].to {
			return nil, fmt.Errorf("%s: invocation ranges overlap at invocation %d", ptr, seq.ranges[i].from)
		}
	}
	return seq, nil
}

// parseInvocationRange parses "3" or "1-2".
func parseInvocationRange(key string) (from, to int, err error) {
	a, b, isRange := strings.Cut(key, "-")
	from, err = parseIndex(a)
	if err == nil && isRange {
		to, err = parseIndex(b)
	} else {
		to = from
	}
	if err != nil {
		return 0, 0, fmt.Errorf("invocation index must be a number or a range such as \"1-2\", not %q", key)
	}
	if to < from {
		return 0, 0, fmt.Errorf("invocation range %q ends before it starts", key)
	}
	return from, to, nil
}

func parseIndex(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("bad index %q", s)
	}
	return n, nil
}

// parseMockResponse reads {"Return": v} or {"Throw": {"Error", "Cause"}},
// each with an optional "Delay" in seconds.
func parseMockResponse(v any, ptr string) (mockResponse, error) {
	var r mockResponse
	obj, ok := v.(map[string]any)
	if !ok {
		return r, fmt.Errorf("%s: a response must be an object with Return or Throw, not %s", ptr, value.TypeName(v))
	}
	for _, k := range sortedKeys(obj) {
		if k != "Return" && k != "Throw" && k != "Delay" {
			return r, fmt.Errorf("%s/%s: unknown field (a response has Return or Throw, and optionally Delay)", ptr, escapePointer(k))
		}
	}
	ret, hasReturn := obj["Return"]
	throw, hasThrow := obj["Throw"]
	switch {
	case hasReturn && hasThrow:
		return r, fmt.Errorf("%s: has both Return and Throw", ptr)
	case !hasReturn && !hasThrow:
		return r, fmt.Errorf("%s: needs Return or Throw", ptr)
	case hasReturn:
		r.Return = ret
	default:
		t, ok := throw.(map[string]any)
		if !ok {
			return r, fmt.Errorf("%s/Throw: must be an object {\"Error\": ..., \"Cause\": ...}, not %s", ptr, value.TypeName(throw))
		}
		r.Throw = &engine.Error{}
		for _, k := range sortedKeys(t) {
			s, ok := t[k].(string)
			switch {
			case k != "Error" && k != "Cause":
				return r, fmt.Errorf("%s/Throw/%s: unknown field (expected Error and Cause)", ptr, escapePointer(k))
			case !ok:
				return r, fmt.Errorf("%s/Throw/%s: must be a string, not %s", ptr, k, value.TypeName(t[k]))
			case k == "Error":
				r.Throw.Name = s
			default:
				r.Throw.Cause = s
			}
		}
		if r.Throw.Name == "" {
			return r, fmt.Errorf("%s/Throw/Error: an error name is required", ptr)
		}
	}
	if d, ok := obj["Delay"]; ok {
		secs, isNum := toFloat(d)
		if !isNum || math.IsNaN(secs) || secs < 0 || math.IsInf(secs, 0) || secs > 365*24*3600*100 {
			return r, fmt.Errorf("%s/Delay: must be a number of seconds >= 0, not %s", ptr, value.MarshalString(d))
		}
		r.Delay = time.Duration(secs * float64(time.Second))
	}
	return r, nil
}

// escapePointer escapes a JSON pointer token.
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// toFloat returns a number value as a float64.
func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

// parseJSONOrYAML decodes a JSON document (numbers kept exactly as the value
// model has them) or, when it does not start like JSON, a YAML one.
func parseJSONOrYAML(data []byte) (any, error) {
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return parseJSON(trimmed)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %v", err)
	}
	return parseJSON(j)
}
