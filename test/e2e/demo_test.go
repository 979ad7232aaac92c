package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/cli"
	"github.com/kstates/kstates/test/testenv"
)

// demoNamespace is where hack/demo.sh runs the orders (its manager watches only this one).
const demoNamespace = "kstates-demo"

// TestDemo runs `make demo`'s script, hack/demo.sh, against the e2e cluster: the operator
// deployed as a Deployment from the manager image, the order StateMachine with its Lambda ARNs
// bound to the order-tasks image, and the three orders. It then reads the executions and their
// whole histories (cli.ReadHistory, as `kstates history` does) and checks each path: the large
// order waits in RequestApproval and succeeds with the approver the CLI sent; the declined
// card is caught (Refund, NotifyCustomer) and the execution fails with PaymentDeclined; the
// flaky inventory check fails once and succeeds on the retry.
func TestDemo(t *testing.T) {
	t.Parallel()
	kubeconfig := os.Getenv("KSTATES_E2E_KUBECONFIG")
	if kubeconfig == "" {
		t.Skip("KSTATES_E2E_KUBECONFIG is not set: no cluster to run the demo on (hack/e2e.sh brings one up and sets it)")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "demo.sh"))
	cmd.Dir = root
	// hack/e2e.sh has just built and imported the images from these sources.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "KSTATES_DEMO_IMAGES=0")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("hack/demo.sh took %v", time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("hack/demo.sh: %v\n%s", err, out)
	}
	for _, s := range []string{
		"NAME             STATEMACHINE   STATUS", // kubectl get executions' printer columns
		"kstates send-task-success",
		"accepted by execution order-approval",
		"== kstates history order-approval", "== kstates history order-declined", "== kstates history order-flaky",
		"demo done in",
	} {
		if !strings.Contains(string(out), s) {
			t.Errorf("the demo's output lacks %q:\n%s", s, out)
		}
	}

	testenv.SetLogger() // else controller-runtime's client prints a stack about its logger
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	if err := kstatesv1alpha1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) (*kstatesv1alpha1.Execution, []demoEvent) {
		t.Helper()
		e := &kstatesv1alpha1.Execution{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: demoNamespace, Name: name}, e); err != nil {
			t.Fatal(err)
		}
		evs, err := cli.ReadHistory(ctx, c, e)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := int64(len(evs)); n == 0 || n != e.Status.History.EventCount {
			t.Fatalf("%s: read %d events, the status counts %d", name, n, e.Status.History.EventCount)
		}
		return e, demoEvents(t, evs)
	}

	t.Run("approval", func(t *testing.T) {
		e, evs := read("order-approval")
		var out struct {
			Status, ApprovedBy string
			TotalCents         int64
		}
		if err := json.Unmarshal([]byte(e.Status.Output), &out); err != nil || e.Status.Phase != kstatesv1alpha1.ExecutionSucceeded ||
			out.Status != "CONFIRMED" || out.ApprovedBy != "grace" || out.TotalCents != 129900 {
			t.Fatalf("order-approval: %s, output %s (%v), error %s %s; want Succeeded, CONFIRMED, approvedBy grace, 129900 cents",
				e.Status.Phase, e.Status.Output, err, e.Status.Error, e.Status.Cause)
		}
		expectSequence(t, evs,
			demoEvent{Type: "TaskStateEntered", State: "RequestApproval"},
			// AWS splits arn:aws:states:::lambda:invoke.waitForTaskToken into resourceType and resource.
			demoEvent{Type: "TaskScheduled", State: "RequestApproval", Resource: "invoke.waitForTaskToken"},
			demoEvent{Type: "TaskSucceeded", State: "RequestApproval", Output: `{"approved":true,"approver":"grace"}`},
			demoEvent{Type: "TaskStateEntered", State: "ChargePayment"},
			demoEvent{Type: "ExecutionSucceeded"})
		if hasState(evs, "AutoApprove") {
			t.Error("a 1,299.00 order went through AutoApprove")
		}
	})

	t.Run("declined payment is caught: refund and notify", func(t *testing.T) {
		e, evs := read("order-declined")
		if e.Status.Phase != kstatesv1alpha1.ExecutionFailed || e.Status.Error != "PaymentDeclined" ||
			e.Status.Cause != "Card ending 0002 declined: insufficient funds" {
			t.Fatalf("order-declined: %s %s: %s; want Failed PaymentDeclined: Card ending 0002 declined: insufficient funds",
				e.Status.Phase, e.Status.Error, e.Status.Cause)
		}
		expectSequence(t, evs,
			demoEvent{Type: "TaskFailed", State: "ChargePayment", Error: "PaymentDeclined"},
			demoEvent{Type: "TaskStateEntered", State: "Refund"},
			demoEvent{Type: "TaskSucceeded", State: "Refund"},
			demoEvent{Type: "TaskStateEntered", State: "NotifyCustomer"},
			demoEvent{Type: "TaskSucceeded", State: "NotifyCustomer"},
			demoEvent{Type: "FailStateEntered", State: "PaymentFailed"},
			demoEvent{Type: "ExecutionFailed", Error: "PaymentDeclined"})
	})

	t.Run("flaky inventory check succeeds on retry", func(t *testing.T) {
		e, evs := read("order-flaky")
		if e.Status.Phase != kstatesv1alpha1.ExecutionSucceeded || !strings.Contains(e.Status.Output, `"status":"CONFIRMED"`) {
			t.Fatalf("order-flaky: %s, output %s, error %s %s; want Succeeded and CONFIRMED", e.Status.Phase, e.Status.Output, e.Status.Error, e.Status.Cause)
		}
		expectSequence(t, evs,
			demoEvent{Type: "TaskScheduled", State: "CheckInventory"},
			demoEvent{Type: "TaskFailed", State: "CheckInventory", Error: "InventoryUnavailable"},
			demoEvent{Type: "TaskScheduled", State: "CheckInventory"},
			demoEvent{Type: "TaskSucceeded", State: "CheckInventory", Output: `{"attempt":1,"reservationId":"res-flaky-2003","reserved":true,"skus":1}`},
			demoEvent{Type: "ExecutionSucceeded"})
		if hasState(evs, "RequestApproval") {
			t.Error("a 29.97 order asked for an approval")
		}
	})
}

// demoEvent is what the checks look at in a history event: the state is the event's own or,
// for task events, that of the event it follows (as `kstates history` shows it).
type demoEvent struct {
	Type, State, Resource, Error, Output string
}

func demoEvents(t *testing.T, events []kstatesv1alpha1.HistoryEvent) []demoEvent {
	t.Helper()
	stateOf := map[int64]string{}
	out := make([]demoEvent, len(events))
	for i, ev := range events {
		var d struct {
			Name, Resource, Error, Output string
		}
		if ev.Details != nil {
			if err := json.Unmarshal(ev.Details.Raw, &d); err != nil {
				t.Fatalf("event %d (%s): details %s: %v", ev.ID, ev.Type, ev.Details.Raw, err)
			}
		}
		state := ev.StateName
		if state == "" && strings.HasPrefix(ev.Type, "Task") {
			state = stateOf[ev.PreviousEventID]
		}
		stateOf[ev.ID] = state
		out[i] = demoEvent{Type: ev.Type, State: state, Resource: d.Resource, Error: d.Error, Output: d.Output}
	}
	return out
}

// expectSequence checks that the history holds want in this order (other events may come
// between); a zero field of a wanted event matches anything.
func expectSequence(t *testing.T, evs []demoEvent, want ...demoEvent) {
	t.Helper()
	i := 0
	for _, ev := range evs {
		if i == len(want) {
			break
		}
		w := want[i]
		if ev.Type == w.Type && (w.State == "" || ev.State == w.State) && (w.Resource == "" || ev.Resource == w.Resource) &&
			(w.Error == "" || ev.Error == w.Error) && (w.Output == "" || ev.Output == w.Output) {
			i++
		}
	}
	if i < len(want) {
		var b strings.Builder
		for _, ev := range evs {
			b.WriteString(ev.Type + " " + ev.State + " " + ev.Resource + " " + ev.Error + " " + ev.Output + "\n")
		}
		t.Fatalf("the history lacks %+v (after the %d events before it in the expected sequence):\n%s", want[i], i, b.String())
	}
}

func hasState(evs []demoEvent, state string) bool {
	for _, ev := range evs {
		if ev.State == state {
			return true
		}
	}
	return false
}
