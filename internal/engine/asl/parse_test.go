package asl

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string, opts Options) *Definition {
	t.Helper()
	def, diags := Parse([]byte(doc), opts)
	if HasErrors(diags) {
		t.Fatalf("unexpected diagnostics: %+v", diags)
	}
	return def
}

func TestParsePopulatesTheDefinition(t *testing.T) {
	def := mustParse(t, `{
	  "Comment": "c", "Version": "1.0", "TimeoutSeconds": 30,
	  "StartAt": "Zed",
	  "States": {
	    "Zed": {"Type": "Pass", "InputPath": null, "Result": {"i": 1, "f": 2.0, "big": 1e300, "s": "x", "n": null, "a": [true]}, "ResultPath": "$.r", "Next": "Alpha"},
	    "Alpha": {"Type": "Task", "Resource": "arn:r", "TimeoutSeconds": 10, "HeartbeatSeconds": 5,
	              "Retry": [{"ErrorEquals": ["E"], "MaxAttempts": 2, "BackoffRate": 1.5, "JitterStrategy": "FULL"}],
	              "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": null, "Next": "Mid"}], "Next": "Mid"},
	    "Mid": {"Type": "Map", "ItemsPath": "$.items", "Parameters": {"v.$": "$$.Map.Item.Value"}, "MaxConcurrency": 3,
	            "Iterator": {"StartAt": "In", "States": {"In": {"Type": "Succeed"}}}, "Next": "Ch"},
	    "Ch": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.x", "NumericEqualsPath": "$.y"}, "Next": "Done"}], "Default": "Done"},
	    "Done": {"Type": "Fail", "Error": "E", "CausePath": "$.c"}
	  }}`, Options{})
	if got, want := def.StateOrder, []string{"Zed", "Alpha", "Mid", "Ch", "Done"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StateOrder = %v, want document order %v", got, want)
	}
	if def.Comment != "c" || def.Version != "1.0" || def.TimeoutSeconds == nil || *def.TimeoutSeconds != 30 || def.QueryLanguage != QueryLanguageJSONPath || def.StartAt != "Zed" {
		t.Errorf("top level: %+v", def)
	}
	zed := def.States["Zed"]
	if !zed.InputPath.Set || !zed.InputPath.Null || zed.InputPath.Has() {
		t.Errorf("InputPath null: %+v", zed.InputPath)
	}
	if zed.OutputPath.Set {
		t.Errorf("absent OutputPath is Set: %+v", zed.OutputPath)
	}
	wantResult := map[string]any{"i": int64(1), "f": 2.0, "big": 1e300, "s": "x", "n": nil, "a": []any{true}}
	if !reflect.DeepEqual(zed.Result.Value, wantResult) {
		t.Errorf("Result = %#v, want %#v", zed.Result.Value, wantResult)
	}
	if zed.ResultPath.Value != "$.r" || zed.Next != "Alpha" || zed.Pointer != "/States/Zed" || zed.Name != "Zed" {
		t.Errorf("Zed: %+v", zed)
	}
	alpha := def.States["Alpha"]
	if alpha.TimeoutSeconds.Value != int64(10) || alpha.HeartbeatSeconds.Value != int64(5) {
		t.Errorf("timeouts: %+v %+v", alpha.TimeoutSeconds, alpha.HeartbeatSeconds)
	}
	r := alpha.Retry[0]
	if !reflect.DeepEqual(r.ErrorEquals, []string{"E"}) || r.MaxAttempts.Value != 2 || r.BackoffRate.Value != 1.5 || r.JitterStrategy != "FULL" || r.IntervalSeconds.Set || r.Pointer != "/States/Alpha/Retry/0" {
		t.Errorf("retrier: %+v", r)
	}
	c := alpha.Catch[0]
	if c.Next != "Mid" || !c.ResultPath.Null || c.Pointer != "/States/Alpha/Catch/0" {
		t.Errorf("catcher: %+v", c)
	}
	mid := def.States["Mid"]
	if !mid.LegacyIterator || !mid.LegacyParameters || mid.Parameters.Set || mid.ItemProcessor == nil || mid.ItemProcessor.Pointer != "/States/Mid/Iterator" {
		t.Errorf("legacy Map: %+v", mid)
	}
	if mid.ItemProcessor.ProcessorConfig == nil || mid.ItemProcessor.ProcessorConfig.Mode != "INLINE" {
		t.Errorf("default ProcessorConfig: %+v", mid.ItemProcessor.ProcessorConfig)
	}
	if !reflect.DeepEqual(mid.ItemSelector.Value, map[string]any{"v.$": "$$.Map.Item.Value"}) || mid.MaxConcurrency.Value != int64(3) {
		t.Errorf("Map fields: %+v", mid)
	}
	ch := def.States["Ch"]
	if len(ch.Choices) != 1 || ch.Choices[0].Not == nil || ch.Choices[0].Not.Operator != "NumericEqualsPath" ||
		ch.Choices[0].Not.Operand != "$.y" || ch.Choices[0].Not.Variable.Value != "$.x" || ch.Choices[0].Next != "Done" || ch.Default != "Done" {
		t.Errorf("choice: %+v / %+v", ch.Choices[0], ch.Choices[0].Not)
	}
	done := def.States["Done"]
	if done.Error.Value != "E" || done.CausePath.Value != "$.c" || done.ErrorPath.Set {
		t.Errorf("fail: %+v", done)
	}
}

func TestQueryLanguageIsResolvedPerState(t *testing.T) {
	def := mustParse(t, `{"QueryLanguage":"JSONata","StartAt":"P","States":{
	  "P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],"Next":"M"},
	  "M":{"Type":"Map","Items":"{% [1] %}","ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}}}`, Options{})
	if def.QueryLanguage != QueryLanguageJSONata || def.States["P"].QueryLanguage != QueryLanguageJSONata {
		t.Fatalf("top level JSONata not inherited: %q %q", def.QueryLanguage, def.States["P"].QueryLanguage)
	}
	br := def.States["P"].Branches[0]
	if br.QueryLanguage != QueryLanguageJSONata || br.States["B"].QueryLanguage != QueryLanguageJSONata || br.Pointer != "/States/P/Branches/0" {
		t.Errorf("branch: %+v", br)
	}
	if def.States["M"].ItemProcessor.States["I"].QueryLanguage != QueryLanguageJSONata {
		t.Errorf("item processor state not JSONata")
	}

	// A Map's own QueryLanguage does not reach its item processor (as on AWS).
	def = mustParse(t, `{"StartAt":"M","States":{"M":{"Type":"Map","QueryLanguage":"JSONata","Items":"{% [1] %}",
	  "ItemProcessor":{"StartAt":"I","States":{"I":{"Type":"Pass","InputPath":"$","End":true}}},"End":true}}}`, Options{})
	if m := def.States["M"]; m.QueryLanguage != QueryLanguageJSONata || m.ItemProcessor.States["I"].QueryLanguage != QueryLanguageJSONPath {
		t.Errorf("Map %q, inner %q", m.QueryLanguage, m.ItemProcessor.States["I"].QueryLanguage)
	}
}

func TestYAMLDefinitionsKeepDocumentOrder(t *testing.T) {
	doc := `
# a comment
Comment: yaml
StartAt: Second
States:
  Second:
    Type: Pass
    Result: {n: 1, f: 1.5, s: "x"}
    Next: First
  First:
    Type: Choice
    Choices:
      - Variable: $.n
        NumericEquals: 1
        Next: Zulu
    Default: Zulu
  Zulu:
    Type: Succeed
`
	def := mustParse(t, doc, Options{})
	if got, want := def.StateOrder, []string{"Second", "First", "Zulu"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StateOrder = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(def.States["Second"].Result.Value, map[string]any{"n": int64(1), "f": 1.5, "s": "x"}) {
		t.Errorf("Result = %#v", def.States["Second"].Result.Value)
	}
	if def.States["First"].Choices[0].Operand != int64(1) {
		t.Errorf("operand = %#v", def.States["First"].Choices[0].Operand)
	}
}

func TestYAMLYesAndNoStayStrings(t *testing.T) {
	doc := "StartAt: Ask\nStates:\n  Ask:\n    Type: Choice\n    Choices:\n      - Variable: $.ok\n        BooleanEquals: true\n        Next: Yes\n    Default: No\n  Yes: {Type: Succeed}\n  No: {Type: Fail, Error: Refused}\n"
	def := mustParse(t, doc, Options{})
	if got, want := def.StateOrder, []string{"Ask", "Yes", "No"}; !reflect.DeepEqual(got, want) {
		t.Errorf("StateOrder = %v, want %v", got, want)
	}
	if def.States["Ask"].Default != "No" || def.States["Ask"].Choices[0].Operand != true {
		t.Errorf("Ask = %+v", def.States["Ask"])
	}
}

func TestYAMLAliasBombsAreRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	_, diags := Parse([]byte(b.String()), Options{})
	if len(diags) != 1 || diags[0].Location != "" {
		t.Fatalf("diags = %+v", diags)
	}
}

func TestYAMLErrorsAreReported(t *testing.T) {
	_, diags := Parse([]byte("StartAt: A\nStates:\n  A: [unclosed\n"), Options{})
	if len(diags) != 1 || diags[0].Code != CodeInvalidJSON || !strings.Contains(diags[0].Message, "line") {
		t.Fatalf("diags = %+v", diags)
	}
}

func TestEveryProblemIsReportedInDocumentOrder(t *testing.T) {
	doc := `{"StartAt":"A","States":{
	  "A":{"Type":"Pass","Next":"Ghost","Bogus":1},
	  "B":{"Type":"Wait","End":true},
	  "C":{"Type":"Task","End":true,"TimeoutSeconds":-5}
	}}`
	_, diags := Parse([]byte(doc), Options{})
	var got []string
	for _, d := range diags {
		got = append(got, d.Code+" "+d.Location)
	}
	want := []string{
		"MISSING_TRANSITION_TARGET /States/A/Next",
		"SCHEMA_VALIDATION_FAILED /States/A", // Bogus
		// A state's own findings come before the graph's at the same place.
		"SCHEMA_VALIDATION_FAILED /States/B",  // no timing field
		"MISSING_TRANSITION_TARGET /States/B", // unreachable
		"SCHEMA_VALIDATION_FAILED /States/C",  // no Resource
		"MISSING_TRANSITION_TARGET /States/C", // unreachable
		"SCHEMA_VALIDATION_FAILED /States/C/TimeoutSeconds",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diagnostics\n got %q\nwant %q\nfull: %+v", got, want, diags)
	}
}

func TestParseValueAcceptsDecodedDefinitions(t *testing.T) {
	var v any
	if err := json.Unmarshal([]byte(`{"StartAt":"B","States":{"B":{"Type":"Pass","Result":{"n":2},"Next":"A"},"A":{"Type":"Succeed"}}}`), &v); err != nil {
		t.Fatal(err)
	}
	def, diags := ParseValue(v, Options{})
	if len(diags) != 0 {
		t.Fatalf("diags = %+v", diags)
	}
	if !reflect.DeepEqual(def.StateOrder, []string{"A", "B"}) || def.States["B"].Result.Value.(map[string]any)["n"] != int64(2) {
		t.Errorf("def = %+v", def)
	}
	_, diags = ParseValue(map[string]any{"StartAt": "A", "States": map[string]any{"A": map[string]any{"Type": "Pass"}}}, Options{})
	// A state whose transition cannot be read does not also make the machine
	// lack a terminal state.
	if len(diags) != 1 || diags[0].Location != "/States/A" {
		t.Errorf("diags = %+v", diags)
	}
	_, diags = ParseValue(map[string]any{"x": make(chan int)}, Options{})
	if len(diags) != 1 || diags[0].Code != CodeInvalidJSON {
		t.Errorf("unsupported Go value: %+v", diags)
	}
}

// bigDefinition builds a chain of n states mixing the state types.
func bigDefinition(n int) string {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		next := fmt.Sprintf(`"Next":"S%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Parameters":{"a.$":"$.a","b.$":"States.Format('{}', $.b)","c":[1,2,{"d":"e"}]},"ResultPath":"$.r%d",%s}`, i, i, next)
		case 1:
			fmt.Fprintf(&b, `"S%d":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:f","TimeoutSeconds":60,"Retry":[{"ErrorEquals":["States.TaskFailed"],"MaxAttempts":3}],"Catch":[{"ErrorEquals":["States.ALL"],"ResultPath":"$.err","Next":"S%d"}],%s}`, i, i+1, next)
		case 2:
			fmt.Fprintf(&b, `"S%d":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.x","NumericGreaterThan":1},{"Variable":"$.y","StringMatches":"a*"}],"Next":"S%d"}],"Default":"S%d"}`, i, i+1, i+1)
		case 3:
			fmt.Fprintf(&b, `"S%d":{"Type":"Wait","SecondsPath":"$.s",%s}`, i, next)
		}
	}
	b.WriteString(`}}`)
	return b.String()
}

func TestBigDefinitionParses(t *testing.T) {
	def := mustParse(t, bigDefinition(200), Options{})
	if len(def.StateOrder) != 200 || def.StateOrder[199] != "S199" {
		t.Fatalf("parsed %d states", len(def.StateOrder))
	}
}

func BenchmarkParse200States(b *testing.B) {
	doc := []byte(bigDefinition(200))
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := Parse(doc, Options{}); len(diags) != 0 {
			b.Fatal(diags)
		}
	}
}
