package envtest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/cli"
)

// runCLI runs a kstates command in-process against the test API server.
func runCLI(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	env := &cli.Env{Prog: "kstates", Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ctx: ctx}
	code = cli.Dispatch(env, args)
	return code, out.String(), errb.String()
}

// TestCLICallbacks: get-task-token, send-task-heartbeat and send-task-success against the
// operator; the namespace comes from the token.
func TestCLICallbacks(t *testing.T) {
	ctx, ns := setup(t)
	cli.RESTConfig = func() (*rest.Config, string, error) { return restConfig, "default", nil }
	t.Cleanup(func() { cli.RESTConfig = nil })
	startManager(t, ns, nil)
	create(ctx, t, makeStateMachine(ns, "cli", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken",
		"Parameters":{"Image":"x"},"HeartbeatSeconds":60,"End":true}}}`).obj())
	e := makeExecution(ns, "cli").stateMachine("cli").obj()
	create(ctx, t, e)
	token := podToken(ctx, t, ns, e, "T", 0)
	waitFor(ctx, t, e, "the task to run", func(e *kstatesv1alpha1.Execution) bool { return e.Status.CurrentState == "T" })

	code, out, errText := runCLI(ctx, "get-task-token", "-n", ns, "cli")
	if code != 0 || !strings.HasPrefix(out, token+"\t") || !strings.Contains(out, "state=T") {
		t.Fatalf("get-task-token: exit %d, stdout %q, stderr %q; want the token %s", code, out, errText, token)
	}
	if code, out, errText = runCLI(ctx, "send-task-heartbeat", "--token", token); code != 0 || !strings.Contains(out, "accepted") {
		t.Fatalf("send-task-heartbeat: exit %d, stdout %q, stderr %q", code, out, errText)
	}
	if code, _, errText = runCLI(ctx, "send-task-success", "--token", token, "--output", "{bad"); code != cli.ExitUsage {
		t.Fatalf("send-task-success with bad JSON: exit %d, stderr %q", code, errText)
	}
	if code, out, errText = runCLI(ctx, "send-task-success", "--token", token, "--output", `{"via":"cli"}`); code != 0 {
		t.Fatalf("send-task-success: exit %d, stdout %q, stderr %q", code, out, errText)
	}
	got := waitPhase(ctx, t, ns, "cli", kstatesv1alpha1.ExecutionSucceeded)
	if !jsonEq(got.Status.Output, `{"via":"cli"}`) {
		t.Errorf("output %s", got.Status.Output)
	}
	code, _, errText = runCLI(ctx, "send-task-failure", "--token", token, "--error", "Late")
	if code != cli.ExitFailed || !strings.Contains(errText, "rejected") {
		t.Errorf("a late send-task-failure: exit %d, stderr %q; want 1 and rejected", code, errText)
	}
	if code, _, errText = runCLI(ctx, "get-task-token", "-n", ns, "cli"); code != cli.ExitFailed {
		t.Errorf("get-task-token of an ended execution: exit %d, stderr %q", code, errText)
	}
}
