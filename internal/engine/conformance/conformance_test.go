// Package conformance runs the AWS-recorded execution cases of the folder
// named by KSTATES_CONFORMANCE_DIR through the engine, normalising the
// engine's answers as that folder's README.md and NORMALISATION.json say.
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
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/value"
)

// passFloor is the number of JSONPath-mode cases that passed when the floor
// was last raised; the test fails when fewer pass.
const passFloor = 346

// jsonataPassFloor is the same for the JSONata cases (feature "jsonata"),
// counted separately.
const jsonataPassFloor = 53

const (
	region   = "us-east-1"
	account  = "111111111111"
	smName   = "<ArnPart_0idx>"
	execName = "<ExecArnPart_0idx>"
)

type testCase struct {
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

type outcome struct {
	pass, strictCause, historyMatch, historyCompared bool
	eventsCompared, eventsMatch                      bool
	why                                              string
}

func TestConformance(t *testing.T) {
	dir := os.Getenv("KSTATES_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("KSTATES_CONFORMANCE_DIR is not set: skipping the AWS-recorded conformance cases")
	}
	files, err := filepath.Glob(filepath.Join(dir, "executions", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases under %s/executions (%v)", dir, err)
	}
	type tally struct{ pass, total int }
	areas := map[string]*tally{}        // JSONPath-mode cases
	jsonataAreas := map[string]*tally{} // cases tagged "jsonata"
	var passed, failed, strict, histMatch, histTotal, evMatch, evTotal int
	var jPassed, jFailed, jStrict int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c testCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		o := runCase(&c)
		isJSONata := contains(c.Features, "jsonata")
		switch {
		case o.pass && isJSONata:
			jPassed++
		case o.pass:
			passed++
		case isJSONata:
			jFailed++
			t.Logf("FAIL (JSONata) %s: %s", c.Name, o.why)
		default:
			failed++
			t.Logf("FAIL %s: %s", c.Name, o.why)
		}
		if o.pass && o.strictCause {
			if isJSONata {
				jStrict++
			} else {
				strict++
			}
		}
		if o.historyCompared {
			histTotal++
			if o.historyMatch {
				histMatch++
			} else if os.Getenv("KSTATES_CONFORMANCE_VERBOSE") != "" {
				t.Logf("HISTORY %s", c.Name)
			}
		}
		if o.eventsCompared {
			evTotal++
			if o.eventsMatch {
				evMatch++
			}
		}
		byArea := areas
		if isJSONata {
			byArea = jsonataAreas
		}
		for _, ft := range c.Features {
			a := byArea[ft]
			if a == nil {
				a = &tally{}
				byArea[ft] = a
			}
			a.total++
			if o.pass {
				a.pass++
			}
		}
	}
	var b strings.Builder
	for _, set := range []struct {
		prefix string
		m      map[string]*tally
	}{{"area", areas}, {"jsonata area", jsonataAreas}} {
		names := make([]string, 0, len(set.m))
		for n := range set.m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s %s: %d/%d\n", set.prefix, n, set.m[n].pass, set.m[n].total)
		}
	}
	fmt.Fprintf(&b, "strict (cause matches too): %d of %d passing JSONPath cases, %d of %d passing JSONata cases\n", strict, passed, jStrict, jPassed)
	fmt.Fprintf(&b, "history types match: %d/%d\n", histMatch, histTotal)
	fmt.Fprintf(&b, "history events match (ids, links, details; ordered cases): %d/%d\n", evMatch, evTotal)
	fmt.Fprintf(&b, "conformance: %d passed, %d failed\n", passed, failed)
	fmt.Fprintf(&b, "conformance-jsonata: %d passed, %d failed\n", jPassed, jFailed)
	fmt.Print(b.String())
	if passed < passFloor {
		t.Errorf("conformance dropped: %d passed, below the floor of %d", passed, passFloor)
	}
	if jPassed < jsonataPassFloor {
		t.Errorf("JSONata conformance dropped: %d passed, below the floor of %d", jPassed, jsonataPassFloor)
	}
}

func runCase(c *testCase) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			o = outcome{why: fmt.Sprintf("panic: %v", r)}
		}
	}()
	opts := asl.Options{Type: c.StateMachineType}
	def, diags := asl.Parse(c.Definition, opts)
	for _, d := range diags {
		if d.Severity == asl.SeverityError {
			return outcome{why: fmt.Sprintf("definition rejected: %s %s %s", d.Code, d.Location, d.Message)}
		}
	}
	prog, err := engine.Compile(def)
	if err != nil {
		return outcome{why: "compile: " + err.Error()}
	}
	input, err := value.Parse(c.Input)
	if err != nil {
		return outcome{why: "input: " + err.Error()}
	}
	name, role, kind := execName, "snf_role_arn", "execution"
	if c.StateMachineType == "EXPRESS" {
		name, role, kind = "<SyncExecArn_Part1_0idx>", "sfn_role_arn", "express"
	}
	start := time.Date(2024, 6, 26, 19, 6, 54, 0, time.UTC)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	n := 0
	res := prog.Run(ctx, input, engine.RunOptions{
		Clock: engine.NewVirtualClock(start),
		Context: engine.ContextOverrides{
			ExecutionID:      fmt.Sprintf("arn:aws:states:%s:%s:%s:%s:%s", region, account, kind, smName, name),
			ExecutionName:    name,
			StateMachineID:   fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", region, account, smName),
			StateMachineName: smName,
			RoleArn:          role,
			StartTime:        start,
		},
		UUID:   func() string { n++; return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) },
		Int63n: func(k int64) int64 { return 7 % k },
	})
	// Histories rewritten by the recording test's own transformer
	// (history_order_normalised_by_test, e.g. localstack's
	// SfnNoneRecursiveParallelTransformer, which drops events) cannot be
	// reproduced here and are not compared.
	o.historyCompared = len(c.ExpectedHistoryTypes) > 0 && (c.Normalisation.HistoryNormalised == nil || !*c.Normalisation.HistoryNormalised)
	if o.historyCompared {
		got := make([]string, len(res.History))
		for i, e := range res.History {
			got[i] = e.Type
		}
		want := append([]string(nil), c.ExpectedHistoryTypes...)
		if c.Normalisation.HistoryOrderMayVary != nil && *c.Normalisation.HistoryOrderMayVary {
			sort.Strings(got)
			sort.Strings(want)
		}
		o.historyMatch = reflect.DeepEqual(got, want)
		if !o.historyMatch && os.Getenv("KSTATES_CONFORMANCE_VERBOSE") != "" {
			fmt.Printf("HISTORY %s\n  got  %v\n  want %v\n", c.Name, got, want)
		}
	}
	if o.historyCompared && o.historyMatch && len(c.RecordedEvents) == len(res.History) &&
		(c.Normalisation.HistoryOrderMayVary == nil || !*c.Normalisation.HistoryOrderMayVary) && !c.Nondeterministic {
		o.eventsCompared = true
		o.eventsMatch = true
		for i, e := range res.History {
			if why := compareEvent(c, e, c.RecordedEvents[i]); why != "" {
				o.eventsMatch = false
				if os.Getenv("KSTATES_CONFORMANCE_VERBOSE") != "" {
					fmt.Printf("EVENT %s #%d: %s\n", c.Name, i+1, why)
				}
				break
			}
		}
	}
	if res.Status != c.Expected.Status {
		o.why = fmt.Sprintf("status %s (%s: %s), want %s", res.Status, res.Error, res.Cause, c.Expected.Status)
		return o
	}
	switch res.Status {
	case engine.StatusSucceeded:
		got := normalise(c, res.Output)
		var want any
		if err := json.Unmarshal(c.Expected.Output, &want); err != nil {
			o.why = "expected output: " + err.Error()
			return o
		}
		if c.Nondeterministic {
			o.pass = sameShape(got, want)
		} else {
			o.pass = reflect.DeepEqual(got, want)
		}
		o.strictCause = o.pass
		if !o.pass {
			o.why = fmt.Sprintf("output\n  got  %s\n  want %s", mustJSON(got), mustJSON(want))
		}
	case engine.StatusFailed:
		wantErr := ""
		if c.Expected.Error != nil {
			wantErr = *c.Expected.Error
		}
		wantCause := ""
		if c.Expected.Cause != nil {
			wantCause = *c.Expected.Cause
		}
		o.pass = res.Error == wantErr
		gotCause := normaliseCause(c, res.Cause)
		o.strictCause = gotCause == wantCause
		if len(c.CauseJSON) > 0 && !o.strictCause {
			var a, b any
			if json.Unmarshal([]byte(res.Cause), &a) == nil && json.Unmarshal(c.CauseJSON, &b) == nil {
				o.strictCause = reflect.DeepEqual(normalise(c, a), b)
			}
		}
		if !o.pass {
			o.why = fmt.Sprintf("error %q (cause %q), want %q", res.Error, res.Cause, wantErr)
		} else if !o.strictCause && os.Getenv("KSTATES_CONFORMANCE_VERBOSE") != "" {
			fmt.Printf("CAUSE %s\n  got  %s\n  want %s\n", c.Name, gotCause, wantCause)
		}
	default:
		o.pass, o.strictCause = true, true
	}
	return o
}

var (
	isoRe     = regexp.MustCompile(`\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?(Z|[+-]\d{2}:?\d{2})`)
	isoFullRe = regexp.MustCompile(`^` + isoRe.String() + `$`)
	tsKeyRe   = regexp.MustCompile(`(?i)timestamp`)
	jsonInRe  = regexp.MustCompile(`'(\{.*\}|\[.*\])'`)
)

// normalise rewrites an engine value as the recorder rewrote expectations.
func normalise(c *testCase, v any) any {
	// JSON-decode a copy so numbers compare by value (float64 both sides).
	var x any
	if err := json.Unmarshal(value.Marshal(v), &x); err != nil {
		return v
	}
	x = timestampKeys(x)
	for _, tr := range c.Normalisation.Transformers {
		if tr.Type == "JsonpathTransformer" && strings.HasPrefix(tr.JSONPath, "$..") {
			x = replaceKey(x, strings.TrimPrefix(tr.JSONPath, "$.."), tr.Replacement)
		}
		if tr.Type == "RegexTransformer" && !tr.RuntimeValue {
			if re, err := regexp.Compile(tr.Regex); err == nil {
				x = rewriteStrings(x, func(s string) string { return re.ReplaceAllString(s, tr.Replacement) })
			}
		}
	}
	s := mustJSON(x)
	s = isoRe.ReplaceAllString(s, "date")
	s = strings.ReplaceAll(s, "arn:aws:", "arn:<partition>:")
	s = strings.ReplaceAll(s, ":"+region+":", ":<region>:")
	var out any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return x
	}
	return out
}

func normaliseCause(c *testCase, s string) string {
	s = jsonInRe.ReplaceAllString(s, "'<json-input:1>'")
	s = isoRe.ReplaceAllString(s, "date")
	s = strings.ReplaceAll(s, "arn:aws:", "arn:<partition>:")
	return strings.ReplaceAll(s, ":"+region+":", ":<region>:")
}

func timestampKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); tsKeyRe.MatchString(k) && !(ok && isoFullRe.MatchString(s)) {
				t[k] = "timestamp"
				continue
			}
			t[k] = timestampKeys(x)
		}
	case []any:
		for i, x := range t {
			t[i] = timestampKeys(x)
		}
	}
	return v
}

func replaceKey(v any, key, repl string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if k == key {
				t[k] = repl
				continue
			}
			t[k] = replaceKey(x, key, repl)
		}
	case []any:
		for i, x := range t {
			t[i] = replaceKey(x, key, repl)
		}
	}
	return v
}

func rewriteStrings(v any, f func(string) string) any {
	switch t := v.(type) {
	case string:
		return f(t)
	case map[string]any:
		for k, x := range t {
			t[k] = rewriteStrings(x, f)
		}
	case []any:
		for i, x := range t {
			t[i] = rewriteStrings(x, f)
		}
	}
	return v
}

// sameShape compares structure and types, not scalar values.
func sameShape(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameShape(v, w) {
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compareEvent compares one engine event with the recorded one: id,
// previousEventId, type and details. The recorder parsed JSON texts in
// details into values in some places and not in others, so a JSON text
// matches either its text or its value.
func compareEvent(c *testCase, e engine.HistoryEvent, rec map[string]any) string {
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
			m["cause"] = normaliseCause(c, cause)
		}
	}
	gn := normalise(c, gd)
	if !looseEqual(c, gn, rd) {
		return fmt.Sprintf("%s\n  got      %s\n  recorded %s", key, mustJSON(gn), mustJSON(rd))
	}
	return ""
}

func looseEqual(c *testCase, got, rec any) bool {
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
			nv := normalise(c, v)
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
