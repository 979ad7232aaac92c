package asl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func conformanceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("KSTATES_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("KSTATES_CONFORMANCE_DIR is not set: skipping the AWS-recorded conformance cases")
	}
	return dir
}

type validationCase struct {
	Name             string          `json:"name"`
	StateMachineType string          `json:"state_machine_type"`
	Definition       json.RawMessage `json:"definition"`
	DefinitionRaw    string          `json:"definition_raw"`
	ExpectedResult   *struct {
		Result      string       `json:"result"`
		Diagnostics []Diagnostic `json:"diagnostics"`
	} `json:"expected_validation_result"`
	ExpectedError *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"expected_validation_error"`
}

// expectedFirst returns the recorded result and first diagnostic.
func (c *validationCase) expectedFirst() (result string, first *Diagnostic) {
	if c.ExpectedResult != nil {
		if len(c.ExpectedResult.Diagnostics) > 0 {
			first = &c.ExpectedResult.Diagnostics[0]
		}
		return c.ExpectedResult.Result, first
	}
	// CreateStateMachine's error: "Invalid State Machine Definition:
	// 'CODE: message at /location'".
	msg := c.ExpectedError.Message
	msg = strings.TrimPrefix(msg, "Invalid State Machine Definition: '")
	msg = strings.TrimSuffix(msg, "'")
	code, rest, _ := strings.Cut(msg, ": ")
	d := &Diagnostic{Code: code, Message: rest, Severity: SeverityError}
	if i := strings.LastIndex(rest, " at /"); i >= 0 {
		d.Message, d.Location = rest[:i], rest[i+4:]
	}
	return "FAIL", d
}

func TestConformanceValidation(t *testing.T) {
	dir := conformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "validation", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no validation cases under %s: %v", dir, err)
	}
	exact := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c validationCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(c.Name, func(t *testing.T) {
			src := []byte(c.DefinitionRaw)
			if len(src) == 0 {
				src = c.Definition
			}
			_, diags := Parse(src, Options{Type: c.StateMachineType})
			result := "OK"
			if HasErrors(diags) {
				result = "FAIL"
			}
			wantResult, want := c.expectedFirst()
			if result != wantResult {
				t.Fatalf("result %s, want %s; diagnostics: %+v", result, wantResult, diags)
			}
			if want == nil {
				exact++
				return
			}
			got := diags[0]
			if got.Code != want.Code || got.Location != want.Location {
				t.Fatalf("first diagnostic %s at %s (%s), want %s at %s (%s)", got.Code, got.Location, got.Message, want.Code, want.Location, want.Message)
			}
			if got.Message == want.Message {
				exact++
			} else {
				t.Logf("message differs: got %q, AWS %q", got.Message, want.Message)
			}
		})
	}
	t.Logf("validation conformance: %d cases, %d with the exact AWS message", len(files), exact)
}

type executionCase struct {
	Name             string          `json:"name"`
	StateMachineType string          `json:"state_machine_type"`
	Definition       json.RawMessage `json:"definition"`
}

// countStates counts the states of a decoded definition, branches and item
// processors included.
func countStates(def map[string]any) int {
	states, _ := def["States"].(map[string]any)
	n := len(states)
	for _, s := range states {
		sm, _ := s.(map[string]any)
		for _, b := range asSlice(sm["Branches"]) {
			if bm, ok := b.(map[string]any); ok {
				n += countStates(bm)
			}
		}
		for _, k := range []string{"ItemProcessor", "Iterator"} {
			if pm, ok := sm[k].(map[string]any); ok {
				n += countStates(pm)
			}
		}
	}
	return n
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func countParsed(d *Definition) int {
	n := len(d.States)
	for _, st := range d.States {
		for _, b := range st.Branches {
			n += countParsed(b)
		}
		if st.ItemProcessor != nil {
			n += countParsed(st.ItemProcessor)
		}
	}
	return n
}

func TestConformanceExecutionsParse(t *testing.T) {
	dir := conformanceDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "executions", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no execution cases under %s: %v", dir, err)
	}
	ok := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c executionCase
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		def, diags := Parse(c.Definition, Options{Type: c.StateMachineType})
		if HasErrors(diags) {
			t.Errorf("%s: AWS ran this definition but Parse reports: %+v", c.Name, diags)
			continue
		}
		var generic map[string]any
		if err := json.Unmarshal(c.Definition, &generic); err != nil {
			t.Fatal(err)
		}
		if want, got := countStates(generic), countParsed(def); want != got {
			t.Errorf("%s: parsed %d states, the document has %d", c.Name, got, want)
			continue
		}
		if def.StartAt != generic["StartAt"] || len(def.StateOrder) != len(def.States) {
			t.Errorf("%s: StartAt %q / StateOrder %v do not match the document", c.Name, def.StartAt, def.StateOrder)
			continue
		}
		ok++
	}
	t.Logf("execution definitions: %d of %d parse cleanly with the expected structure", ok, len(files))
}
