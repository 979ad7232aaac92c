package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/enginestate"
	"github.com/kstates/kstates/internal/podtask"
)

// The callback commands answer .waitForTaskToken tasks by creating a TaskCallback in the
// execution's namespace (the namespace is read from the token unless -n says otherwise) and
// waiting for the operator's verdict.

func init() {
	register(&Command{Name: "send-task-success", Summary: "complete a .waitForTaskToken task with an output", Run: runSendTaskSuccess})
	register(&Command{Name: "send-task-failure", Summary: "fail a .waitForTaskToken task with an error and a cause", Run: runSendTaskFailure})
	register(&Command{Name: "send-task-heartbeat", Summary: "report that a .waitForTaskToken task is alive", Run: runSendTaskHeartbeat})
	register(&Command{Name: "get-task-token", Summary: "print the tokens of the tasks an execution waits for", Run: runGetTaskToken})
}

type callbackFlags struct {
	cluster *clusterFlags
	token   *string
	wait    *time.Duration
}

func addCallbackFlags(fs interface {
	String(string, string, string) *string
	Duration(string, time.Duration, string) *time.Duration
}) *callbackFlags {
	return &callbackFlags{
		token: fs.String("token", "", "the task token ($$.Task.Token, KSTATES_TASK_TOKEN in a task pod); \"-\" reads it from stdin"),
		wait:  fs.Duration("wait", 30*time.Second, "how long to wait for the operator's verdict (0: do not wait)"),
	}
}

func runSendTaskSuccess(env *Env, args []string) int {
	fs := newFlagSet(env, "send-task-success", "--token TOKEN --output JSON")
	cf := addCallbackFlags(fs)
	cf.cluster = addClusterFlags(fs)
	output := fs.String("output", "", "the task's output, JSON text (\"@FILE\" reads a file, \"-\" stdin)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 0 {
		return usageError(env, fs, "unexpected arguments %q", pos)
	}
	if *output == "" {
		return usageError(env, fs, "--output is required")
	}
	text, err := readArg(env, *output)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s send-task-success: %v\n", env.Prog, err)
		return ExitUsage
	}
	if !json.Valid([]byte(text)) {
		fmt.Fprintf(env.Stderr, "%s send-task-success: --output is not valid JSON\n", env.Prog)
		return ExitUsage
	}
	return sendCallback(env, fs.Name(), cf, kstatesv1alpha1.TaskCallbackSpec{Success: &kstatesv1alpha1.TaskCallbackSuccess{Output: text}})
}

func runSendTaskFailure(env *Env, args []string) int {
	fs := newFlagSet(env, "send-task-failure", "--token TOKEN [--error ERROR] [--cause CAUSE]")
	cf := addCallbackFlags(fs)
	cf.cluster = addClusterFlags(fs)
	errName := fs.String("error", "", "the error name Retry and Catch match (default States.TaskFailed)")
	cause := fs.String("cause", "", "a description of the failure")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 0 {
		return usageError(env, fs, "unexpected arguments %q", pos)
	}
	return sendCallback(env, fs.Name(), cf, kstatesv1alpha1.TaskCallbackSpec{Failure: &kstatesv1alpha1.TaskCallbackFailure{Error: *errName, Cause: *cause}})
}

func runSendTaskHeartbeat(env *Env, args []string) int {
	fs := newFlagSet(env, "send-task-heartbeat", "--token TOKEN")
	cf := addCallbackFlags(fs)
	cf.cluster = addClusterFlags(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 0 {
		return usageError(env, fs, "unexpected arguments %q", pos)
	}
	return sendCallback(env, fs.Name(), cf, kstatesv1alpha1.TaskCallbackSpec{Heartbeat: true})
}

// readArg reads "-" (stdin), "@FILE" or the text itself.
func readArg(env *Env, s string) (string, error) {
	switch {
	case s == "-":
		b, err := io.ReadAll(env.Stdin)
		return strings.TrimSpace(string(b)), err
	case strings.HasPrefix(s, "@"):
		b, err := os.ReadFile(s[1:])
		return strings.TrimSpace(string(b)), err
	}
	return s, nil
}

// sendCallback creates the TaskCallback and waits for its outcome: exit 0 when accepted (or
// not waited for), 1 when rejected or not processed in time, 2 for usage and API errors.
func sendCallback(env *Env, cmd string, cf *callbackFlags, spec kstatesv1alpha1.TaskCallbackSpec) int {
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "%s %s: %s\n", env.Prog, cmd, fmt.Sprintf(format, a...))
		return code
	}
	token, err := readArg(env, *cf.token)
	if err != nil {
		return fail(ExitUsage, "reading the token: %v", err)
	}
	if token == "" {
		return fail(ExitUsage, "--token is required")
	}
	spec.Token = token
	tokenNs, _, _ := podtask.ParseTaskToken(token)
	cl, ns, err := cf.cluster.connect(tokenNs)
	if err != nil {
		return fail(ExitUsage, "%v", err)
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	cb := &kstatesv1alpha1.TaskCallback{ObjectMeta: metav1.ObjectMeta{Namespace: ns, GenerateName: "callback-"}, Spec: spec}
	if err := cl.Create(ctx, cb); err != nil {
		return fail(ExitUsage, "creating the TaskCallback in namespace %s: %v", ns, err)
	}
	if *cf.wait <= 0 {
		fmt.Fprintf(env.Stdout, "taskcallback/%s created in namespace %s\n", cb.Name, ns)
		return ExitOK
	}
	wctx, cancel := context.WithTimeout(ctx, *cf.wait)
	defer cancel()
	for cb.Status.Phase == "" {
		select {
		case <-wctx.Done():
			if errors.Is(wctx.Err(), context.DeadlineExceeded) {
				return fail(ExitFailed, "taskcallback/%s in namespace %s was not processed within %s (is the operator running?)", cb.Name, ns, *cf.wait)
			}
			return ExitInterrupted
		case <-time.After(100 * time.Millisecond):
		}
		if err := cl.Get(wctx, client.ObjectKeyFromObject(cb), cb); err != nil && wctx.Err() == nil {
			return fail(ExitUsage, "reading taskcallback/%s: %v", cb.Name, err)
		}
	}
	if cb.Status.Phase == kstatesv1alpha1.TaskCallbackRejected {
		return fail(ExitFailed, "rejected (%s): %s", cb.Status.Reason, cb.Status.Message)
	}
	fmt.Fprintf(env.Stdout, "accepted by execution %s: %s\n", cb.Status.ExecutionName, cb.Status.Message)
	return ExitOK
}

// pendingToken is a task an execution waits for a callback of.
type pendingToken struct {
	State   string `json:"state"`
	Thread  string `json:"thread"`
	Attempt int    `json:"attempt"`
	Token   string `json:"token"`
}

func runGetTaskToken(env *Env, args []string) int {
	fs := newFlagSet(env, "get-task-token", "EXECUTION")
	cluster := addClusterFlags(fs)
	out := fs.String("o", "text", "output format: text (the tokens, one a line, with state, thread and attempt) or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 1 {
		return usageError(env, fs, "expected one EXECUTION argument, got %d", len(pos))
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "%s get-task-token: %s\n", env.Prog, fmt.Sprintf(format, a...))
		return code
	}
	cl, ns, err := cluster.connect("")
	if err != nil {
		return fail(ExitUsage, "%v", err)
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	exec := &kstatesv1alpha1.Execution{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: pos[0]}, exec); err != nil {
		return fail(ExitUsage, "%v", err)
	}
	var state []byte
	switch st := &exec.Status; {
	case st.EngineState != nil:
		state = st.EngineState.Raw
	case st.EngineStateRef != nil:
		p := &kstatesv1alpha1.Payload{}
		if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: st.EngineStateRef.Name}, p); err != nil {
			return fail(ExitUsage, "reading the engine state: %v", err)
		}
		state = []byte(p.Spec.Data)
	}
	if state != nil {
		// A large state keeps the threads of a big Map in chunks beside its root document.
		ex, err := enginestate.NewCodec().DecodeTree(state, func(hash string) ([]byte, error) {
			p := &kstatesv1alpha1.Payload{}
			name := kstatesv1alpha1.EngineStatePartName(kstatesv1alpha1.ExecutionObjectPrefix(exec.Name, string(exec.UID)), hash)
			if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
				return nil, err
			}
			return []byte(p.Spec.Data), nil
		})
		if err != nil {
			return fail(ExitUsage, "reading the engine state: %v", err)
		}
		if state, err = ex.Marshal(); err != nil {
			return fail(ExitUsage, "reading the engine state: %v", err)
		}
	}
	tokens := pendingTokens(state)
	if *out == "json" {
		if tokens == nil {
			tokens = []pendingToken{}
		}
		b, _ := json.MarshalIndent(tokens, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		for _, t := range tokens {
			fmt.Fprintf(env.Stdout, "%s\tstate=%s thread=%q attempt=%d\n", t.Token, t.State, t.Thread, t.Attempt)
		}
	}
	if len(tokens) == 0 {
		fmt.Fprintf(env.Stderr, "execution %s (%s) waits for no callback\n", exec.Name, exec.Status.Phase)
		return ExitFailed
	}
	return ExitOK
}

// pendingTokens finds the threads of an engine state that run a callback task.
func pendingTokens(state []byte) []pendingToken {
	var root any
	if json.Unmarshal(state, &root) != nil {
		return nil
	}
	var out []pendingToken
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if tok, _ := v["taskToken"].(string); tok != "" && v["phase"] == "task" {
				t := pendingToken{Token: tok}
				t.State, _ = v["state"].(string)
				t.Thread, _ = v["id"].(string)
				if a, ok := v["attempt"].(float64); ok {
					t.Attempt = int(a)
				}
				out = append(out, t)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(root)
	sort.Slice(out, func(i, j int) bool { return out[i].Thread < out[j].Thread })
	return out
}
