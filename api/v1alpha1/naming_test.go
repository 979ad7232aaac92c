package v1alpha1

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestNamesAreValidDeterministicAndDistinct(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	long := strings.Repeat("a", 250)
	longOther := strings.Repeat("a", 249) + "b"
	uid := "6f2c1c8e-0000-4000-8000-000000000001"
	cases := []struct {
		reason string
		name   string
		want   string // empty: only checked for validity
	}{
		{"a revision is the state machine's name and 10 hex digits of the hash", RevisionName("order", hash), "order-ababababab"},
		{"a long state machine name still gives a valid revision name", RevisionName(long, hash), ""},
		{"chunk numbers are five digits", HistoryChunkName("run-1a2b3", 7), "run-1a2b3-00007"},
		{"a payload name is the prefix and 16 hex digits of its content hash", PayloadName("run-1a2b3", hash), "run-1a2b3-pabababababababab"},
		{"a long execution name still gives valid chunk names", HistoryChunkName(ExecutionObjectPrefix(long, uid), 99999), ""},
		{"a long execution name still gives valid payload names", PayloadName(ExecutionObjectPrefix(long, uid), hash), ""},
	}
	for _, c := range cases {
		if errs := validation.IsDNS1123Subdomain(c.name); len(errs) > 0 {
			t.Errorf("%s: %q is not a valid name: %v", c.reason, c.name, errs)
		}
		if c.want != "" && c.name != c.want {
			t.Errorf("%s: got %q, want %q", c.reason, c.name, c.want)
		}
	}
	if a, b := ExecutionObjectPrefix(long, uid), ExecutionObjectPrefix(longOther, uid); a == b {
		t.Errorf("two long execution names share the prefix %q", a)
	}
	if a, b := ExecutionObjectPrefix("run", uid), ExecutionObjectPrefix("run", "another-uid"); a == b {
		t.Errorf("a re-created execution (new UID) shares the prefix %q", a)
	}
	if a, b := ExecutionObjectPrefix("run", uid), ExecutionObjectPrefix("run", uid); a != b {
		t.Errorf("the prefix is not deterministic: %q, %q", a, b)
	}
}

func TestFinalPhases(t *testing.T) {
	final := map[ExecutionPhase]bool{ExecutionSucceeded: true, ExecutionFailed: true, ExecutionTimedOut: true, ExecutionAborted: true}
	for _, p := range []ExecutionPhase{ExecutionPending, ExecutionRunning, ExecutionSucceeded, ExecutionFailed, ExecutionTimedOut, ExecutionAborted} {
		if p.IsFinal() != final[p] {
			t.Errorf("%s.IsFinal() = %v", p, p.IsFinal())
		}
	}
}
