package envtest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/cli"
)

// TestCLIHistory: `kstates history` prints the whole history of an execution whose older
// events are sealed into HistoryChunks and whose large event details are in Payloads, in
// order, with those details read back.
func TestCLIHistory(t *testing.T) {
	ctx, ns := setup(t)
	cli.RESTConfig = func() (*rest.Config, string, error) { return restConfig, "default", nil }
	t.Cleanup(func() { cli.RESTConfig = nil })
	startManager(t, ns, nil)

	// 40 Pass states (80 state events: more than a window), the first with a 3 KiB result
	// (its events' details go to Payloads).
	big := strings.Repeat("x", 3000)
	states := []string{fmt.Sprintf(`"P0":{"Type":"Pass","Result":{"big":%q},"Next":"P1"}`, big)}
	for i := 1; i < 40; i++ {
		next := fmt.Sprintf(`"Next":"P%d"`, i+1)
		if i == 39 {
			next = `"End":true`
		}
		states = append(states, fmt.Sprintf(`"P%d":{"Type":"Pass","Result":{"i":%d},%s}`, i, i, next))
	}
	create(ctx, t, makeStateMachine(ns, "long", `{"StartAt":"P0","States":{`+strings.Join(states, ",")+`}}`).obj())
	create(ctx, t, makeExecution(ns, "long").stateMachine("long").obj())
	e := waitPhase(ctx, t, ns, "long", kstatesv1alpha1.ExecutionSucceeded)
	if e.Status.History.ChunkCount == 0 {
		t.Fatalf("no history chunk was sealed (%d events): the test does not test reading chunks", e.Status.History.EventCount)
	}
	refs := 0
	for _, ev := range e.Status.History.Events {
		if ev.DetailsRef != nil {
			refs++
		}
	}
	types := historyTypes(ctx, t, e)

	code, out, errText := runCLI(ctx, "history", "-n", ns, "long", "-o", "json")
	if code != cli.ExitOK {
		t.Fatalf("history -o json: exit %d, stderr %q", code, errText)
	}
	var doc struct {
		Execution struct{ Name, Phase string }
		Events    []map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("history -o json is not JSON: %v\n%s", err, out)
	}
	if doc.Execution.Name != "long" || doc.Execution.Phase != "Succeeded" || len(doc.Events) != len(types) {
		t.Fatalf("history -o json: execution %+v with %d events; want long, Succeeded, %d events", doc.Execution, len(doc.Events), len(types))
	}
	bigDetails := 0
	for i, ev := range doc.Events {
		var id int
		var typ string
		if json.Unmarshal(ev["id"], &id) != nil || json.Unmarshal(ev["type"], &typ) != nil || id != i+1 || typ != types[i] {
			t.Fatalf("event %d: id %s type %s; want %d %s", i, ev["id"], ev["type"], i+1, types[i])
		}
		for k, v := range ev {
			if strings.HasSuffix(k, "EventDetails") && strings.Contains(string(v), big) {
				bigDetails++
			}
		}
	}
	// PassStateExited of P0 and PassStateEntered of P1 carry the 3 KiB output as details.
	if bigDetails < 2 {
		t.Errorf("%d events carry the 3 KiB details, want at least 2 (read back from Payloads; %d detailsRef in the window)", bigDetails, refs)
	}

	code, out, errText = runCLI(ctx, "history", "-n", ns, "long")
	if code != cli.ExitOK || !strings.Contains(out, "Execution "+ns+"/long (state machine long") || !strings.Contains(out, ": Succeeded") ||
		!strings.Contains(out, "ID  PREV  TIME(ms)  TYPE") || !strings.Contains(out, "PassStateEntered") || !strings.Contains(out, "ExecutionSucceeded") {
		t.Errorf("history: exit %d, stderr %q, stdout:\n%s", code, errText, out)
	}
	if code, _, errText = runCLI(ctx, "history", "-n", ns, "missing"); code != cli.ExitUsage || !strings.Contains(errText, "not found") {
		t.Errorf("history of a missing execution: exit %d, stderr %q; want 2 and not found", code, errText)
	}
}
