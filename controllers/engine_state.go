package controllers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
)

// programCache keeps compiled programs by revision (a revision is immutable, so its program
// never changes). It is a cache of derived data: losing it costs a parse.
type programCache struct {
	mu    sync.Mutex
	progs map[string]*engine.Program
}

// maxCachedPrograms bounds the cache; it is emptied when full.
const maxCachedPrograms = 512

// get returns the program of a revision, compiling it on first use.
func (c *programCache) get(rev *kstatesv1alpha1.StateMachineRevision) (*engine.Program, error) {
	key := rev.Namespace + "/" + rev.Name + "/" + rev.Spec.Hash
	c.mu.Lock()
	p := c.progs[key]
	c.mu.Unlock()
	if p != nil {
		return p, nil
	}
	def, diags := asl.Parse([]byte(rev.Spec.Definition), asl.Options{Type: string(rev.Spec.Type)})
	if def == nil || asl.HasErrors(diags) {
		return nil, fmt.Errorf("revision %s: the definition is not valid: %s", rev.Name, diagnosticsMessage(diags))
	}
	p, err := engine.Compile(def)
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
	}
	c.mu.Lock()
	if c.progs == nil || len(c.progs) >= maxCachedPrograms {
		c.progs = map[string]*engine.Program{}
	}
	c.progs[key] = p
	c.mu.Unlock()
	return p, nil
}

// loadEngineState reads the engine state of a started execution (inline or from its Payload).
func (r *ExecutionReconciler) loadEngineState(ctx context.Context, exec *kstatesv1alpha1.Execution) (*engine.Execution, error) {
	var data []byte
	switch st := &exec.Status; {
	case st.EngineStateRef != nil:
		b, err := r.loadPayload(ctx, exec.Namespace, st.EngineStateRef)
		if err != nil {
			return nil, err
		}
		data = b
	case st.EngineState != nil:
		data = st.EngineState.Raw
	default:
		return nil, fmt.Errorf("the execution has no engine state")
	}
	return engine.UnmarshalExecution(data)
}

// saveEngineState puts the engine state into the status: inline up to 16 KiB, else in a
// Payload created before the status write. It returns the payload the status stops
// referring to, to delete after the write.
func (r *ExecutionReconciler) saveEngineState(ctx context.Context, exec *kstatesv1alpha1.Execution, st *kstatesv1alpha1.ExecutionStatus, ex *engine.Execution) (superseded string, err error) {
	data, err := ex.Marshal()
	if err != nil {
		return "", fmt.Errorf("saving the engine state: %w", err)
	}
	if len(data) > kstatesv1alpha1.MaxPayloadObjectBytes {
		return "", permanentError{fmt.Errorf("the execution's engine state is %d bytes, more than one Payload holds (%d); "+
			"splitting a large Map's state over several payloads is not implemented yet", len(data), kstatesv1alpha1.MaxPayloadObjectBytes)}
	}
	old := st.EngineStateRef
	if len(data) <= kstatesv1alpha1.MaxInlineEngineStateBytes {
		st.EngineState, st.EngineStateRef = &apiextensionsv1.JSON{Raw: data}, nil
	} else {
		ref, err := r.storePayload(ctx, exec, kstatesv1alpha1.PayloadEngineState, data)
		if err != nil {
			return "", err
		}
		st.EngineState, st.EngineStateRef = nil, ref
	}
	if old != nil && (st.EngineStateRef == nil || st.EngineStateRef.Name != old.Name) {
		return old.Name, nil
	}
	return "", nil
}

// taskRef is a task the engine state says is running.
type taskRef struct {
	thread   *engine.Thread
	resource string
}

// runningTasks lists the threads waiting for a task, with their Task state's Resource found
// by walking the definition along the thread tree (Parallel branches, Map processors).
func runningTasks(p *engine.Program, ex *engine.Execution) []taskRef {
	var out []taskRef
	var walk func(t *engine.Thread, def *asl.Definition)
	walk = func(t *engine.Thread, def *asl.Definition) {
		if t == nil || def == nil {
			return
		}
		st := def.States[t.State]
		if st == nil {
			return
		}
		if t.Phase == engine.PhaseTask {
			out = append(out, taskRef{thread: t, resource: st.Resource})
		}
		for _, c := range t.Children {
			switch {
			case len(st.Branches) > 0 && c.Index >= 0 && c.Index < len(st.Branches):
				walk(c, st.Branches[c.Index])
			case st.ItemProcessor != nil:
				walk(c, st.ItemProcessor)
			}
		}
	}
	if ex.Status == engine.StatusRunning {
		walk(ex.Root, p.Def)
	}
	return out
}

// currentStates lists the states being run (leaf threads that have not finished) and the
// one-line summary for `kubectl get`.
func currentStates(ex *engine.Execution) ([]string, string) {
	if ex == nil || ex.Status != engine.StatusRunning || ex.Root == nil {
		return nil, ""
	}
	var leaves []string
	var walk func(t *engine.Thread)
	walk = func(t *engine.Thread) {
		if t.Phase == engine.PhaseDone {
			return
		}
		if len(t.Children) == 0 {
			leaves = append(leaves, t.State)
			return
		}
		for _, c := range t.Children {
			walk(c)
		}
	}
	walk(ex.Root)
	root := ex.Root.State
	if len(ex.Root.Children) == 0 || len(leaves) == 0 {
		return []string{root}, truncate(root, 256)
	}
	distinct := map[string]bool{}
	for _, s := range leaves {
		distinct[s] = true
	}
	names := make([]string, 0, len(distinct))
	for s := range distinct {
		names = append(names, truncate(s, 256))
	}
	sort.Strings(names)
	if len(names) > 64 {
		names = names[:64]
	}
	return names, truncate(root+" ("+strconv.Itoa(len(leaves))+" running)", 256)
}
