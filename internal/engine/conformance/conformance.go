// Package conformance compares executions with the AWS-recorded cases of the folder named
// by KSTATES_CONFORMANCE_DIR, normalising the answers as that folder's README.md and
// NORMALISATION.json say: loading a case, running it on the engine alone, and judging an
// outcome (status, output or error, history types and events).
//
// Its test runs every case through the engine; test/controllerconformance runs a sample
// through the Kubernetes controller and judges it with the same code.
package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/value"
)

// The recording's context-object names (README.md, "How to compare").
const (
	Region        = "us-east-1"
	Account       = "111111111111"
	StateMachine  = "<ArnPart_0idx>"
	ExecutionName = "<ExecArnPart_0idx>"
	RoleArn       = "snf_role_arn"
)

// ExecutionARN and StateMachineARN are the recording's $$.Execution.Id and
// $$.StateMachine.Id of a STANDARD execution.
var (
	ExecutionARN    = fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", Region, Account, StateMachine, ExecutionName)
	StateMachineARN = fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", Region, Account, StateMachine)
)

// Case is one recorded execution.
type Case struct {
	File       string          `json:"-"`
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
	Input      json.RawMessage `json:"input"`
	Expected   struct {
		Status string          `json:"status"`
		Output json.RawMessage `json:"output"`
		Error  *string         `json:"error"`
		Cause  *string         `json:"cause"`
	} `json:"expected"`
	CauseJSON            json.RawMessage  `json:"cause_json"`
	ExpectedHistoryTypes []string         `json:"expected_history_types"`
	RecordedEvents       []map[string]any `json:"recorded_events"`
	Nondeterministic     bool             `json:"nondeterministic"`
	StateMachineType     string           `json:"state_machine_type"`
	MaxWaitSeconds       float64          `json:"max_wait_seconds"`
	Features             []string         `json:"features"`
	Normalisation        struct {
		Transformers []struct {
			Type         string `json:"type"`
			JSONPath     string `json:"jsonpath"`
			Regex        string `json:"regex"`
			Replacement  string `json:"replacement"`
			RuntimeValue bool   `json:"runtime_value"`
		} `json:"test_specific_transformers"`
		HistoryOrderMayVary *bool `json:"history_order_may_vary"`
		HistoryNormalised   *bool `json:"history_order_normalised_by_test"`
	} `json:"normalisation"`
}

// LoadCases reads every case under dir/executions, sorted by file name.
func LoadCases(dir string) ([]*Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "executions", "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no cases under %s/executions", dir)
	}
	sort.Strings(files)
	out := make([]*Case, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		c := &Case{File: filepath.Base(f)}
		if err := json.Unmarshal(data, c); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// HasFeature reports whether the case is tagged with the feature.
func (c *Case) HasFeature(f string) bool {
	for _, x := range c.Features {
		if x == f {
			return true
		}
	}
	return false
}

// HasTask reports whether the definition has a Task state anywhere.
func (c *Case) HasTask() bool {
	var v any
	if json.Unmarshal(c.Definition, &v) != nil {
		return false
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if x["Type"] == "Task" {
				return true
			}
			for _, y := range x {
				if walk(y) {
					return true
				}
			}
		case []any:
			for _, y := range x {
				if walk(y) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

// Result is an execution's outcome as the case compares it.
type Result struct {
	Status       string // SUCCEEDED, FAILED, TIMED_OUT, ABORTED
	Output       any    // the value model or decoded JSON
	Error, Cause string
	// HistoryTypes are the event types in order (nil when not recorded, as for EXPRESS).
	HistoryTypes []string
	// Events are the whole events, when known (the engine's), to compare with the recorded
	// ones.
	Events []engine.HistoryEvent
}

// RunEngine runs the case on the engine alone, as internal/engine/conformance does: a virtual
// clock, the recording's context names, reproducible UUIDs and random numbers.
func RunEngine(c *Case) (res Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	def, diags := asl.Parse(c.Definition, asl.Options{Type: c.StateMachineType})
	for _, d := range diags {
		if d.Severity == asl.SeverityError {
			return res, fmt.Errorf("definition rejected: %s %s %s", d.Code, d.Location, d.Message)
		}
	}
	if def == nil {
		return res, fmt.Errorf("definition rejected: %v", diags)
	}
	prog, err := engine.Compile(def)
	if err != nil {
		return res, fmt.Errorf("compile: %w", err)
	}
	input, err := value.Parse(c.Input)
	if err != nil {
		return res, fmt.Errorf("input: %w", err)
	}
	name, role, kind := ExecutionName, RoleArn, "execution"
	if c.StateMachineType == "EXPRESS" {
		name, role, kind = "<SyncExecArn_Part1_0idx>", "sfn_role_arn", "express"
	}
	start := time.Date(2024, 6, 26, 19, 6, 54, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n := 0
	r := prog.Run(ctx, input, engine.RunOptions{
		Clock: engine.NewVirtualClock(start),
		Context: engine.ContextOverrides{
			ExecutionID:      fmt.Sprintf("arn:aws:states:%s:%s:%s:%s:%s", Region, Account, kind, StateMachine, name),
			ExecutionName:    name,
			StateMachineID:   StateMachineARN,
			StateMachineName: StateMachine,
			RoleArn:          role,
			StartTime:        start,
		},
		UUID:   func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) },
		Int63n: func(k int64) int64 { return 7 % k },
	})
	res = Result{Status: r.Status, Output: r.Output, Error: r.Error, Cause: r.Cause,
		HistoryTypes: make([]string, len(r.History)), Events: r.History}
	for i, e := range r.History {
		res.HistoryTypes[i] = e.Type
	}
	return res, nil
}

// Verdict is the comparison of a result with the recording.
type Verdict struct {
	Pass bool
	// StrictCause: the cause matched too.
	StrictCause bool
	// HistoryCompared and HistoryMatch: the event types were recorded (and not rewritten by
	// the recording test) and match.
	HistoryCompared, HistoryMatch bool
	// EventsCompared and EventsMatch: the whole events (ids, links, details) were compared
	// with the recorded ones (the types match, the order is fixed, the case deterministic)
	// and match; EventWhy tells the first that does not.
	EventsCompared, EventsMatch bool
	EventWhy                    string
	Why                         string
}

// Judge compares a result with the case's recording: the status, then the output of a
// SUCCEEDED execution or the error of a FAILED one (the cause counts as StrictCause).
func Judge(c *Case, r Result) Verdict {
	var v Verdict
	v.HistoryCompared = len(c.ExpectedHistoryTypes) > 0 && r.HistoryTypes != nil &&
		(c.Normalisation.HistoryNormalised == nil || !*c.Normalisation.HistoryNormalised)
	if v.HistoryCompared {
		got, want := append([]string(nil), r.HistoryTypes...), append([]string(nil), c.ExpectedHistoryTypes...)
		if c.Normalisation.HistoryOrderMayVary != nil && *c.Normalisation.HistoryOrderMayVary {
			sort.Strings(got)
			sort.Strings(want)
		}
		v.HistoryMatch = reflect.DeepEqual(got, want)
	}
	if v.HistoryCompared && v.HistoryMatch && r.Events != nil && len(c.RecordedEvents) == len(r.Events) &&
		(c.Normalisation.HistoryOrderMayVary == nil || !*c.Normalisation.HistoryOrderMayVary) && !c.Nondeterministic {
		v.EventsCompared, v.EventsMatch = true, true
		for i, e := range r.Events {
			if why := compareEvent(c, e, c.RecordedEvents[i]); why != "" {
				v.EventsMatch, v.EventWhy = false, fmt.Sprintf("#%d: %s", i+1, why)
				break
			}
		}
	}
	if r.Status != c.Expected.Status {
		v.Why = fmt.Sprintf("status %s (%s: %s), want %s", r.Status, r.Error, r.Cause, c.Expected.Status)
		return v
	}
	switch r.Status {
	case engine.StatusSucceeded:
		got := Normalise(c, r.Output)
		var want any
		if err := json.Unmarshal(c.Expected.Output, &want); err != nil {
			v.Why = "expected output: " + err.Error()
			return v
		}
		if c.Nondeterministic {
			v.Pass = sameShape(got, want)
		} else {
			v.Pass = reflect.DeepEqual(got, want)
		}
		v.StrictCause = v.Pass
		if !v.Pass {
			v.Why = fmt.Sprintf("output\n  got  %s\n  want %s", mustJSON(got), mustJSON(want))
		}
	case engine.StatusFailed:
		wantErr, wantCause := "", ""
		if c.Expected.Error != nil {
			wantErr = *c.Expected.Error
		}
		if c.Expected.Cause != nil {
			wantCause = *c.Expected.Cause
		}
		v.Pass = r.Error == wantErr
		v.StrictCause = NormaliseCause(r.Cause) == wantCause
		if len(c.CauseJSON) > 0 && !v.StrictCause {
			var a, b any
			if json.Unmarshal([]byte(r.Cause), &a) == nil && json.Unmarshal(c.CauseJSON, &b) == nil {
				v.StrictCause = reflect.DeepEqual(Normalise(c, a), b)
			}
		}
		if !v.Pass {
			v.Why = fmt.Sprintf("error %q (cause %q), want %q", r.Error, r.Cause, wantErr)
		}
	default:
		v.Pass, v.StrictCause = true, true
	}
	return v
}

var (
	isoRe     = regexp.MustCompile(`\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d{2}:?\d{2})`)
	isoFullRe = regexp.MustCompile(`^` + isoRe.String() + `$`)
	tsKeyRe   = regexp.MustCompile(`(?i)timestamp`)
	jsonInRe  = regexp.MustCompile(`'(\{.*\}|\[.*\])'`)
)

// Normalise rewrites a value as the recorder rewrote the expectations (README.md steps 1-3).
func Normalise(c *Case, v any) any {
	var x any
	if err := json.Unmarshal(value.Marshal(v), &x); err != nil {
		return v
	}
	x = MapStrings(x, func(k string, s string) any {
		if tsKeyRe.MatchString(k) && !isoFullRe.MatchString(s) {
			return "timestamp"
		}
		return s
	}, func(k string, y any) (any, bool) {
		if _, isString := y.(string); tsKeyRe.MatchString(k) && !isString {
			return "timestamp", true
		}
		return nil, false
	})
	for _, tr := range c.Normalisation.Transformers {
		switch {
		case tr.Type == "JsonpathTransformer" && strings.HasPrefix(tr.JSONPath, "$.."):
			key := strings.TrimPrefix(tr.JSONPath, "$..")
			x = MapStrings(x, nil, func(k string, _ any) (any, bool) { return tr.Replacement, k == key })
		case tr.Type == "RegexTransformer" && !tr.RuntimeValue:
			if re, err := regexp.Compile(tr.Regex); err == nil {
				x = MapStrings(x, func(_ string, s string) any { return re.ReplaceAllString(s, tr.Replacement) }, nil)
			}
		}
	}
	s := isoRe.ReplaceAllString(mustJSON(x), "date")
	s = strings.ReplaceAll(s, "arn:aws:", "arn:<partition>:")
	s = strings.ReplaceAll(s, ":"+Region+":", ":<region>:")
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return x
	}
	return out
}

// NormaliseCause rewrites a cause as the recorder did (README.md step 4, and dates, ARNs).
func NormaliseCause(s string) string {
	s = jsonInRe.ReplaceAllString(s, "'<json-input:1>'")
	s = isoRe.ReplaceAllString(s, "date")
	s = strings.ReplaceAll(s, "arn:aws:", "arn:<partition>:")
	return strings.ReplaceAll(s, ":"+Region+":", ":<region>:")
}

// MapStrings rewrites a decoded JSON value: member values for which byKey answers true are
// replaced (and not descended into); other strings go through str (with their member key, ""
// in arrays).
func MapStrings(v any, str func(key, s string) any, byKey func(key string, v any) (any, bool)) any {
	var walk func(key string, v any) any
	walk = func(key string, v any) any {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if byKey != nil {
					if r, ok := byKey(k, x); ok {
						t[k] = r
						continue
					}
				}
				t[k] = walk(k, x)
			}
		case []any:
			for i, x := range t {
				t[i] = walk("", x)
			}
		case string:
			if str != nil {
				return str(key, t)
			}
		}
		return v
	}
	return walk("", v)
}

// sameShape compares structure and types, not scalar values (nondeterministic cases).
func sameShape(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameShape(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameShape(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return reflect.TypeOf(a) == reflect.TypeOf(b)
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

// compareEvent compares one engine event with the recorded one: id, previousEventId, type
// and details. The recorder parsed JSON texts in details into values in some places and not
// in others, so a JSON text matches either its text or its value.
func compareEvent(c *Case, e engine.HistoryEvent, rec map[string]any) string {
	b, err := json.Marshal(e)
	if err != nil {
		return err.Error()
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		return err.Error()
	}
	for _, k := range []string{"id", "previousEventId", "type"} {
		if !reflect.DeepEqual(got[k], rec[k]) {
			return fmt.Sprintf("%s %v, recorded %v", k, got[k], rec[k])
		}
	}
	key := engine.DetailsKey(e.Type)
	gd, rd := got[key], rec[key]
	if rd == nil && gd == nil {
		return ""
	}
	if m, ok := gd.(map[string]any); ok {
		if cause, ok := m["cause"].(string); ok {
			m["cause"] = NormaliseCause(cause)
		}
	}
	gn := Normalise(c, gd)
	if !looseEqual(c, gn, rd) {
		return fmt.Sprintf("%s\n  got      %s\n  recorded %s", key, mustJSON(gn), mustJSON(rd))
	}
	return ""
}

// looseEqual is equality in which a JSON text also matches its (normalised) value.
func looseEqual(c *Case, got, rec any) bool {
	if reflect.DeepEqual(got, rec) {
		return true
	}
	switch g := got.(type) {
	case string:
		var v any
		if json.Unmarshal([]byte(g), &v) == nil && !isString(v) {
			if reflect.DeepEqual(v, rec) {
				return true
			}
			nv := Normalise(c, v)
			if reflect.DeepEqual(nv, rec) {
				return true
			}
			if rs, ok := rec.(string); ok {
				var rv any
				return json.Unmarshal([]byte(rs), &rv) == nil && reflect.DeepEqual(nv, rv)
			}
		}
	case map[string]any:
		r, ok := rec.(map[string]any)
		if !ok || len(r) != len(g) {
			return false
		}
		for k, v := range g {
			if !looseEqual(c, v, r[k]) {
				return false
			}
		}
		return true
	case []any:
		r, ok := rec.([]any)
		if !ok || len(r) != len(g) {
			return false
		}
		for i := range g {
			if !looseEqual(c, g[i], r[i]) {
				return false
			}
		}
		return true
	}
	return false
}

func isString(v any) bool { _, ok := v.(string); return ok }
