package asl

import (
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	machine("A", `"A":{"Type":"Pass","End":true}`),
	machine("A", `"A":{"Type":"Pass","Parameters":{"x.$":"States.Format('{}', $.a)","y":[1,{"z.$":"$$.Execution.Id"}]},"ResultPath":"$.r","Next":"B"},"B":{"Type":"Succeed"}`),
	machine("C", `"C":{"Type":"Choice","Choices":[{"And":[{"Variable":"$.a","NumericLessThan":1},{"Not":{"Variable":"$.b","IsNull":true}}],"Next":"D"}],"Default":"D"},"D":{"Type":"Fail","Error":"E"}`),
	machine("T", `"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","TimeoutSeconds":10,"HeartbeatSeconds":2,"Retry":[{"ErrorEquals":["States.ALL"],"BackoffRate":2.0}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"T"}],"End":true}`),
	machine("P", `"P":{"Type":"Parallel","Branches":[{"StartAt":"B","States":{"B":{"Type":"Wait","Seconds":1,"End":true}}}],"End":true}`),
	machine("M", `"M":{"Type":"Map","ItemsPath":"$.xs","MaxConcurrency":2,"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"I","States":{"I":{"Type":"Pass","End":true}}},"End":true}`),
	`{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Pass","Output":"{% $states.input %}","Assign":{"v":"{% 1 %}"},"End":true}}}`,
	"StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n",
	"a: &x [1, *x]",
	`{"StartAt":"A","States":{"A":{"Type":"Wait","Timestamp":"2016-03-14T01:59:00Z","End":true}}}`,
	`{"a":"\ud83d\ude00\u0000","b":-0.5e-3}`,
	`[[[[[[[[]]]]]]]]`,
	``,
}

func FuzzParseDefinition(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, express bool) {
		opts := Options{}
		if express {
			opts.Type = MachineExpress
		}
		def, diags := Parse(data, opts)
		for _, d := range diags {
			if d.Code == "" || d.Message == "" || (d.Location != "" && !strings.HasPrefix(d.Location, "/")) {
				t.Fatalf("malformed diagnostic %+v", d)
			}
		}
		if HasErrors(diags) {
			return
		}
		if def == nil {
			t.Fatalf("no errors but no definition")
		}
		checkDefinition(t, def)
	})
}

// checkDefinition checks the invariants of a valid Definition.
func checkDefinition(t *testing.T, def *Definition) {
	t.Helper()
	if len(def.StateOrder) != len(def.States) {
		t.Fatalf("StateOrder %v vs %d states", def.StateOrder, len(def.States))
	}
	if def.States[def.StartAt] == nil {
		t.Fatalf("StartAt %q missing from a valid definition", def.StartAt)
	}
	for _, name := range def.StateOrder {
		st := def.States[name]
		if st == nil || st.Name != name || st.Type == "" {
			t.Fatalf("state %q: %+v", name, st)
		}
		for _, next := range successors(st) {
			if def.States[next] == nil {
				t.Fatalf("state %q goes to missing %q in a valid definition", name, next)
			}
		}
		for _, b := range st.Branches {
			checkDefinition(t, b)
		}
		if st.Type == TypeMap {
			if st.ItemProcessor == nil {
				t.Fatalf("Map %q without processor", name)
			}
			checkDefinition(t, st.ItemProcessor)
		}
	}
}
