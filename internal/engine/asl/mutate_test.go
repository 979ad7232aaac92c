package asl

import (
	"encoding/json"
	"math/rand"
	"testing"
)

// seedForTest is the mutator's seed (fixed, so a failure reproduces).
var seedForTest int64 = 1

// vocabulary of field names and values the mutator draws from.
var (
	mutateKeys = []string{"Type", "Next", "End", "StartAt", "States", "Resource", "Choices", "Default", "Variable",
		"StringEquals", "NumericEqualsPath", "And", "Or", "Not", "Condition", "Branches", "ItemProcessor", "Iterator",
		"ProcessorConfig", "Mode", "ExecutionType", "Retry", "Catch", "ErrorEquals", "MaxAttempts", "BackoffRate",
		"Seconds", "Timestamp", "SecondsPath", "Error", "ErrorPath", "Parameters", "ResultPath", "InputPath",
		"QueryLanguage", "Assign", "Output", "Arguments", "Items", "ItemSelector", "ItemBatcher", "ItemReader",
		"MaxConcurrency", "ToleratedFailurePercentage", "TimeoutSeconds", "HeartbeatSeconds", "x.$", "Comment"}
	mutateValues = []any{nil, true, false, int64(-1), int64(0), int64(5), 1.5, "", "A", "B", "$.a", "$$.x", "States.ALL",
		"Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map", "JSONata", "JSONPath", "{% 1 %}",
		"DISTRIBUTED", "EXPRESS", "States.Format('{}', $.a)", "2020-01-01T00:00:00Z", "[", "arn:x.sync",
		[]any{}, map[string]any{}, []any{"A"}, map[string]any{"StartAt": "A", "States": map[string]any{"A": map[string]any{"Type": "Pass", "End": true}}}}
)

// mutate changes v in place at a random spot and returns the new value.
func mutate(r *rand.Rand, v any, depth int) any {
	switch t := v.(type) {
	case map[string]any:
		if len(t) > 0 && r.Intn(3) > 0 && depth < 12 {
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			k := keys[r.Intn(len(keys))]
			switch r.Intn(4) {
			case 0:
				delete(t, k)
			default:
				t[k] = mutate(r, t[k], depth+1)
			}
			return t
		}
		t[mutateKeys[r.Intn(len(mutateKeys))]] = mutateValues[r.Intn(len(mutateValues))]
		return t
	case []any:
		if len(t) > 0 && r.Intn(3) > 0 && depth < 12 {
			i := r.Intn(len(t))
			t[i] = mutate(r, t[i], depth+1)
			return t
		}
		return append(t, mutateValues[r.Intn(len(mutateValues))])
	}
	return mutateValues[r.Intn(len(mutateValues))]
}

// TestMutatedDefinitionsNeverPanic mutates valid definitions structurally
// (keys removed, values swapped for values of other types and meanings) and
// checks that Parse reports problems instead of panicking, and that whatever
// it accepts satisfies the Definition invariants.
func TestMutatedDefinitionsNeverPanic(t *testing.T) {
	r := rand.New(rand.NewSource(seedForTest))
	iterations := 5000
	if testing.Short() {
		iterations = 1000
	}
	for i := 0; i < iterations; i++ {
		seed := fuzzSeeds[r.Intn(7)]
		var v any
		if err := json.Unmarshal([]byte(seed), &v); err != nil {
			t.Fatal(err)
		}
		for j := r.Intn(4); j >= 0; j-- {
			v = mutate(r, v, 0)
		}
		doc, _ := json.Marshal(v)
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("panic on %s: %v", doc, p)
				}
			}()
			def, diags := Parse(doc, Options{Type: []string{"", MachineExpress}[i%2]})
			if !HasErrors(diags) {
				checkDefinition(t, def)
			}
		}()
	}
}
