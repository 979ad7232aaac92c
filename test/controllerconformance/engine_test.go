package controllerconformance

import (
	"os"
	"testing"
)

// The helpers of compare.go judge the engine as internal/engine/conformance does: on every
// JSONPath case they reach at least that test's floor.
func TestEngineAloneMatchesTheEngineConformanceTest(t *testing.T) {
	dir := os.Getenv("KSTATES_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("KSTATES_CONFORMANCE_DIR is not set: skipping the AWS-recorded conformance cases")
	}
	all, err := LoadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	const floor = 346 // internal/engine/conformance's passFloor
	passed := 0
	for _, c := range all {
		if c.HasFeature("jsonata") {
			continue
		}
		r, err := RunEngine(c)
		if err == nil && Judge(c, r).Pass {
			passed++
		}
	}
	if passed < floor {
		t.Errorf("%d JSONPath cases pass on the engine alone, below internal/engine/conformance's floor of %d", passed, floor)
	}
}
