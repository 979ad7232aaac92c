package controllers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/enginestate"
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

// stateStore keeps what the controller knows of the engine states it stored and loaded: the
// codec's values and chunks (content-addressed, so shared by all executions), the state part
// payloads known to exist, and the parts each execution's committed state uses. All of it is
// derived data: losing it costs reads and creates that find existing objects.
type stateStore struct {
	codec *enginestate.Codec

	mu sync.Mutex
	// known holds "namespace/name" of state part payloads known to exist: created or read by
	// this process and not superseded since.
	known map[string]struct{}
	// loaded is, per execution, the root of the state last loaded and the payloads it uses.
	loaded map[types.UID]loadedState
}

type loadedState struct {
	root string
	// parts maps the payloads the state uses to their hashes.
	parts map[string]string
}

// maxKnownParts and maxLoadedStates bound the store; each is emptied when full.
const (
	maxKnownParts   = 1 << 20
	maxLoadedStates = 1 << 14
)

func newStateStore() *stateStore {
	return &stateStore{codec: enginestate.NewCodec(), known: map[string]struct{}{}, loaded: map[types.UID]loadedState{}}
}

// stateStores holds each reconciler's stateStore: a manager started afresh (a restart, or a
// test's new manager) starts with an empty memory and reads what it needs from the API server.
var stateStores sync.Map

// states returns the reconciler's stateStore.
func (r *ExecutionReconciler) states() *stateStore {
	if s, ok := stateStores.Load(r); ok {
		return s.(*stateStore)
	}
	s, _ := stateStores.LoadOrStore(r, newStateStore())
	return s.(*stateStore)
}

func (s *stateStore) isKnown(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.known[key]
	return ok
}

func (s *stateStore) setKnown(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.known) >= maxKnownParts {
		s.known = map[string]struct{}{}
	}
	s.known[key] = struct{}{}
}

// rootKey identifies the engine state a status holds.
func rootKey(st *kstatesv1alpha1.ExecutionStatus) string {
	switch {
	case st.EngineStateRef != nil:
		return "ref:" + st.EngineStateRef.Name
	case st.EngineState != nil:
		return "inline:" + enginestate.Hash(st.EngineState.Raw)
	}
	return ""
}

// committedParts returns the payloads (name to hash) the execution's status (as read) uses,
// when this process loaded that state; else only its root payload.
func (s *stateStore) committedParts(exec *kstatesv1alpha1.Execution) map[string]string {
	key := rootKey(&exec.Status)
	s.mu.Lock()
	l, ok := s.loaded[exec.UID]
	s.mu.Unlock()
	if ok && l.root == key {
		return l.parts
	}
	if ref := exec.Status.EngineStateRef; ref != nil {
		return map[string]string{ref.Name: ref.SHA256}
	}
	return nil
}

// supersede forgets the parts a status will stop using (they are deleted after its write): a
// later state that uses the same data again creates it again. It returns their names, sorted.
func (s *stateStore) supersede(exec *kstatesv1alpha1.Execution, parts map[string]string) []string {
	if len(parts) == 0 {
		return nil
	}
	names := make([]string, 0, len(parts))
	hashes := make([]string, 0, len(parts))
	s.mu.Lock()
	for n, h := range parts {
		delete(s.known, exec.Namespace+"/"+n)
		names = append(names, n)
		if h != "" {
			hashes = append(hashes, h)
		}
	}
	s.mu.Unlock()
	s.codec.Forget(hashes)
	sort.Strings(names)
	return names
}

// loadEngineState reads the engine state of a started execution: its root document (inline or
// from its Payload) and the parts the root refers to, which come from memory when this process
// stored or loaded them before, else from the API server.
func (r *ExecutionReconciler) loadEngineState(ctx context.Context, exec *kstatesv1alpha1.Execution) (*engine.Execution, error) {
	store := r.states()
	var root []byte
	parts := map[string]string{}
	switch st := &exec.Status; {
	case st.EngineStateRef != nil:
		if b, ok := store.codec.Raw(st.EngineStateRef.SHA256); ok && st.EngineStateRef.SHA256 != "" {
			root = b
		} else {
			b, err := r.loadPayload(ctx, exec.Namespace, st.EngineStateRef)
			if err != nil {
				return nil, err
			}
			root = b
		}
		parts[st.EngineStateRef.Name] = st.EngineStateRef.SHA256
	case st.EngineState != nil:
		root = st.EngineState.Raw
	default:
		return nil, fmt.Errorf("the execution has no engine state")
	}
	ex, hashes, err := store.codec.Decode(root, func(hash string) ([]byte, error) {
		return r.loadStatePart(ctx, exec, hash)
	})
	if err != nil {
		return nil, err
	}
	for _, h := range hashes {
		parts[kstatesv1alpha1.EngineStatePartName(objectPrefix(exec), h)] = h
	}
	store.mu.Lock()
	if len(store.loaded) >= maxLoadedStates {
		store.loaded = map[types.UID]loadedState{}
	}
	store.loaded[exec.UID] = loadedState{root: rootKey(&exec.Status), parts: parts}
	store.mu.Unlock()
	return ex, nil
}

// saveEngineState puts the engine state into the status: its large values and the chunks of a
// large thread tree go into content-addressed Payloads (only those not known to exist are
// created, all before the status write), the root document inline up to 16 KiB, else into a
// Payload too. It returns the payloads the status stops using, to delete after the write.
func (r *ExecutionReconciler) saveEngineState(ctx context.Context, exec *kstatesv1alpha1.Execution, st *kstatesv1alpha1.ExecutionStatus, ex *engine.Execution) (superseded []string, err error) {
	store := r.states()
	enc, err := store.codec.Encode(ex)
	if err != nil {
		return nil, fmt.Errorf("saving the engine state: %w", err)
	}
	used := map[string]bool{}
	for _, p := range enc.Parts {
		name, err := r.storeStatePart(ctx, exec, p.Hash, p.Data)
		if err != nil {
			return nil, err
		}
		used[name] = true
	}
	if len(enc.Root) <= kstatesv1alpha1.MaxInlineEngineStateBytes {
		st.EngineState, st.EngineStateRef = &kstatesv1alpha1.JSONText{Raw: enc.Root}, nil
	} else {
		if len(enc.Root) > kstatesv1alpha1.MaxPayloadObjectBytes {
			return nil, permanentError{fmt.Errorf("the execution's engine state has a root document of %d bytes, more than one Payload holds (%d)",
				len(enc.Root), kstatesv1alpha1.MaxPayloadObjectBytes)}
		}
		hash := enginestate.Hash(enc.Root)
		name, err := r.storeStatePart(ctx, exec, hash, func() []byte { return enc.Root })
		if err != nil {
			return nil, err
		}
		store.codec.Remember(hash, enc.Root)
		used[name] = true
		st.EngineState, st.EngineStateRef = nil, &kstatesv1alpha1.PayloadReference{Name: name, Size: int64(len(enc.Root)), SHA256: hash}
	}
	old := map[string]string{}
	for n, h := range store.committedParts(exec) {
		if !used[n] {
			old[n] = h
		}
	}
	return store.supersede(exec, old), nil
}

// dropEngineState clears the engine state of an execution that ended and returns the payloads
// it used, to delete after the status write, together with any other state part of the
// execution: one created for a status write that then failed (a conflict, a crash) is used by
// no state, and would otherwise stay until the Execution is deleted.
func (r *ExecutionReconciler) dropEngineState(ctx context.Context, exec *kstatesv1alpha1.Execution, st *kstatesv1alpha1.ExecutionStatus) []string {
	store := r.states()
	parts := map[string]string{}
	for n, h := range store.committedParts(exec) {
		parts[n] = h
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(kstatesv1alpha1.GroupVersion.WithKind("PayloadList"))
	if err := r.APIReader.List(ctx, list, client.InNamespace(exec.Namespace),
		client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(exec.UID)}); err != nil {
		log.FromContext(ctx).V(1).Info("listing the engine state's payloads", "error", err.Error())
	} else {
		prefix := objectPrefix(exec) + "-s"
		for _, m := range list.Items {
			if _, ok := parts[m.Name]; !ok && strings.HasPrefix(m.Name, prefix) {
				parts[m.Name] = ""
			}
		}
	}
	names := store.supersede(exec, parts)
	store.mu.Lock()
	delete(store.loaded, exec.UID)
	store.mu.Unlock()
	st.EngineState, st.EngineStateRef = nil, nil
	return names
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
