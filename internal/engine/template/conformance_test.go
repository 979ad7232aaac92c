package template

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine/intrinsics"
	"github.com/kstates/kstates/internal/engine/jsonpath"
	"github.com/kstates/kstates/internal/engine/value"
)

// TestConformancePassParameters runs the recorded AWS cases that isolate a
// payload template: a state machine of one Pass state whose Parameters (with
// paths and intrinsics) make the output, optionally placed by ResultPath and
// selected by OutputPath. It checks this package, jsonpath and intrinsics
// against AWS's recorded outputs.
func TestConformancePassParameters(t *testing.T) {
	dir := os.Getenv("KSTATES_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("KSTATES_CONFORMANCE_DIR is not set; skipping the recorded AWS cases")
	}
	files, err := filepath.Glob(filepath.Join(dir, "executions", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases under %s/executions: %v", dir, err)
	}
	ran, passed := 0, 0
	for _, f := range files {
		c, ok := loadPassCase(t, f)
		if !ok {
			continue
		}
		ran++
		got, err := c.run()
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		if !value.Equal(got, c.want) {
			t.Errorf("%s: output %s, AWS recorded %s", filepath.Base(f), value.Marshal(got), value.Marshal(c.want))
			continue
		}
		passed++
	}
	t.Logf("single-Pass Parameters cases: %d passed of %d", passed, ran)
	if ran == 0 {
		t.Fatal("no case qualified; the corpus layout may have changed")
	}
}

type passCase struct {
	input, want            any
	params                 any
	resultPath, outputPath *string
}

func loadPassCase(t *testing.T, file string) (*passCase, bool) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Definition struct {
			QueryLanguage string                     `json:"QueryLanguage"`
			States        map[string]json.RawMessage `json:"States"`
		} `json:"definition"`
		Input    json.RawMessage `json:"input"`
		Expected struct {
			Status string          `json:"status"`
			Output json.RawMessage `json:"output"`
		} `json:"expected"`
		Nondeterministic bool `json:"nondeterministic"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if rec.Definition.QueryLanguage != "" || rec.Expected.Status != "SUCCEEDED" || rec.Nondeterministic || len(rec.Definition.States) != 1 {
		return nil, false
	}
	var state map[string]any
	for _, s := range rec.Definition.States {
		st, err := value.Parse(s)
		if err != nil {
			return nil, false
		}
		state, _ = st.(map[string]any)
	}
	if state == nil || state["Type"] != "Pass" || state["Parameters"] == nil || state["InputPath"] != nil || state["ResultSelector"] != nil || state["Assign"] != nil || state["QueryLanguage"] != nil {
		return nil, false
	}
	// The context object this harness provides holds only these fields.
	def := string(raw)
	for _, p := range strings.Split(def, "$$.")[1:] {
		if !strings.HasPrefix(p, "Execution.Input") && !strings.HasPrefix(p, "StateMachine.Name") {
			return nil, false
		}
	}
	c := &passCase{params: state["Parameters"]}
	if c.input, err = value.Parse(rec.Input); err != nil {
		return nil, false
	}
	if c.want, err = value.Parse(rec.Expected.Output); err != nil {
		return nil, false
	}
	for key, dst := range map[string]**string{"ResultPath": &c.resultPath, "OutputPath": &c.outputPath} {
		if v, ok := state[key]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, false // null ResultPath/OutputPath: not this harness's business
			}
			*dst = &s
		}
	}
	return c, true
}

func (c *passCase) run() (any, error) {
	tp, err := Compile(c.params)
	if err != nil {
		return nil, err
	}
	ctx := map[string]any{
		"Execution":    map[string]any{"Input": c.input},
		"StateMachine": map[string]any{"Name": "<ArnPart_0idx>"},
	}
	scope := &jsonpath.Scope{Input: c.input, Context: ctx}
	out, err := tp.Eval(scope, &intrinsics.Env{})
	if err != nil {
		return nil, err
	}
	if c.resultPath != nil {
		ref, err := jsonpath.CompileReference(*c.resultPath)
		if err != nil {
			return nil, err
		}
		if out, err = ref.Set(c.input, out); err != nil {
			return nil, err
		}
	}
	if c.outputPath != nil {
		p, err := jsonpath.Compile(*c.outputPath)
		if err != nil {
			return nil, err
		}
		if out, err = p.Get(&jsonpath.Scope{Input: out, Context: ctx}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
