package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
)

// The history command prints the history of an Execution on a cluster, as `run --history`
// prints an offline one: the sealed HistoryChunks in order, then the events inline in the
// status, with the details kept in Payloads read back.

func init() {
	register(&Command{Name: "history", Summary: "print the status and whole history of an execution on a cluster", Run: runHistory})
}

func runHistory(env *Env, args []string) int {
	fs := newFlagSet(env, "history", "EXECUTION")
	cluster := addClusterFlags(fs)
	out := fs.String("o", "text", "output format: text (status line and event table) or json (AWS's GetExecutionHistory shape plus the execution's status)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 1 {
		return usageError(env, fs, "expected one EXECUTION argument, got %d", len(pos))
	}
	if *out != "text" && *out != "json" {
		return usageError(env, fs, "-o must be text or json, not %q", *out)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "%s history: %s\n", env.Prog, fmt.Sprintf(format, a...))
		return ExitUsage
	}
	cl, ns, err := cluster.connect("")
	if err != nil {
		return fail("%v", err)
	}
	ctx := env.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	exec := &kstatesv1alpha1.Execution{}
	if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: pos[0]}, exec); err != nil {
		return fail("%v", err)
	}
	events, err := ReadHistory(ctx, cl, exec)
	if err != nil {
		return fail("execution %s/%s: %v", ns, exec.Name, err)
	}
	if *out == "json" {
		writeHistoryJSON(env.Stdout, exec, events)
	} else {
		writeExecutionText(env.Stdout, exec, events)
	}
	return ExitOK
}

// ReadHistory returns every event of the execution, oldest first: those sealed into its
// HistoryChunks, then those in its status, with details kept in Payloads (detailsRef) read
// back and checked against their SHA-256. Event ids must run from 1 without a gap.
func ReadHistory(ctx context.Context, cl client.Reader, exec *kstatesv1alpha1.Execution) ([]kstatesv1alpha1.HistoryEvent, error) {
	h := &exec.Status.History
	var events []kstatesv1alpha1.HistoryEvent
	for i := int32(0); i < h.ChunkCount; i++ {
		chunk := &kstatesv1alpha1.HistoryChunk{}
		name := kstatesv1alpha1.HistoryChunkName(h.ChunkPrefix, i)
		if err := cl.Get(ctx, client.ObjectKey{Namespace: exec.Namespace, Name: name}, chunk); err != nil {
			return nil, fmt.Errorf("reading history chunk %s: %w", name, err)
		}
		events = append(events, chunk.Spec.Events...)
	}
	events = append(events, h.Events...)
	for i := range events {
		if want := int64(i + 1); events[i].ID != want {
			return nil, fmt.Errorf("event %d of the history has id %d, want %d (the history changed while it was read? try again)", i, events[i].ID, want)
		}
		ref := events[i].DetailsRef
		if ref == nil || events[i].Details != nil {
			continue
		}
		p := &kstatesv1alpha1.Payload{}
		if err := cl.Get(ctx, client.ObjectKey{Namespace: exec.Namespace, Name: ref.Name}, p); err != nil {
			return nil, fmt.Errorf("reading the details of event %d (payload %s): %w", events[i].ID, ref.Name, err)
		}
		if sum := sha256.Sum256([]byte(p.Spec.Data)); ref.SHA256 != "" && hex.EncodeToString(sum[:]) != ref.SHA256 {
			return nil, fmt.Errorf("payload %s (details of event %d) does not match its sha256", ref.Name, events[i].ID)
		}
		events[i].Details = &apiextensionsv1.JSON{Raw: []byte(p.Spec.Data)}
	}
	return events, nil
}

// engineEvents converts API events for the history table (details as maps).
func engineEvents(events []kstatesv1alpha1.HistoryEvent) []engine.HistoryEvent {
	out := make([]engine.HistoryEvent, len(events))
	for i, ev := range events {
		d := map[string]any{}
		if ev.Details != nil {
			_ = json.Unmarshal(ev.Details.Raw, &d)
		}
		if _, ok := d["name"]; !ok && ev.StateName != "" {
			d["name"] = ev.StateName
		}
		out[i] = engine.HistoryEvent{ID: ev.ID, PreviousEventID: ev.PreviousEventID, Timestamp: ev.Timestamp.Time, Type: ev.Type, Details: d}
	}
	return out
}

// writeExecutionText prints a status line, the output or error, and the history table.
func writeExecutionText(w io.Writer, exec *kstatesv1alpha1.Execution, events []kstatesv1alpha1.HistoryEvent) {
	st := &exec.Status
	fmt.Fprintf(w, "Execution %s/%s (state machine %s, revision %s): %s", exec.Namespace, exec.Name,
		exec.Spec.StateMachineName, st.Revision, st.Phase)
	if st.Duration != "" {
		fmt.Fprintf(w, " in %s", st.Duration)
	}
	if !st.Phase.IsFinal() && st.CurrentState != "" {
		fmt.Fprintf(w, ", in %s", st.CurrentState)
	}
	fmt.Fprintln(w)
	switch {
	case st.Output != "":
		fmt.Fprintf(w, "Output: %s\n", st.Output)
	case st.OutputRef != nil:
		fmt.Fprintf(w, "Output: in payload %s (%d bytes)\n", st.OutputRef.Name, st.OutputRef.Size)
	}
	if st.Error != "" || st.Cause != "" {
		fmt.Fprintf(w, "Error: %s: %s\n", st.Error, st.Cause)
	}
	writeHistoryTable(w, engineEvents(events))
}

// writeHistoryJSON prints {"execution": {...status summary}, "events": [AWS-shaped events]}.
func writeHistoryJSON(w io.Writer, exec *kstatesv1alpha1.Execution, events []kstatesv1alpha1.HistoryEvent) {
	type summary struct {
		Name         string          `json:"name"`
		Namespace    string          `json:"namespace"`
		StateMachine string          `json:"stateMachineName"`
		Revision     string          `json:"revision,omitempty"`
		Phase        string          `json:"phase"`
		Output       json.RawMessage `json:"output,omitempty"`
		Error        string          `json:"error,omitempty"`
		Cause        string          `json:"cause,omitempty"`
	}
	st := &exec.Status
	s := summary{Name: exec.Name, Namespace: exec.Namespace, StateMachine: exec.Spec.StateMachineName,
		Revision: st.Revision, Phase: string(st.Phase), Error: st.Error, Cause: st.Cause}
	if st.Output != "" && json.Valid([]byte(st.Output)) {
		s.Output = json.RawMessage(st.Output)
	}
	evs := make([]map[string]any, len(events))
	for i, ev := range events {
		m := map[string]any{
			"id": ev.ID, "previousEventId": ev.PreviousEventID, "type": ev.Type,
			"timestamp": ev.Timestamp.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		}
		if key := engine.DetailsKey(ev.Type); key != "" && ev.Details != nil {
			m[key] = json.RawMessage(ev.Details.Raw)
		}
		evs[i] = m
	}
	b, _ := json.MarshalIndent(map[string]any{"execution": s, "events": evs}, "", "  ")
	fmt.Fprintf(w, "%s\n", b)
}
