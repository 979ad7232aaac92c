package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/history"
)

// The storage side of an execution (docs/operator.md, "Storage design"): payloads and history
// chunks are created before the status write that refers to them, and are immutable, so a
// crash at any point leaves at worst an unreferenced object that is deleted with the
// Execution.

// objectPrefix is the prefix of the execution's chunks, payloads and pods.
func objectPrefix(exec *kstatesv1alpha1.Execution) string {
	return kstatesv1alpha1.ExecutionObjectPrefix(exec.Name, string(exec.UID))
}

// storePayload writes data into the content-addressed Payload of the execution (or finds it)
// and returns the reference to it.
func (r *ExecutionReconciler) storePayload(ctx context.Context, exec *kstatesv1alpha1.Execution, purpose kstatesv1alpha1.PayloadPurpose, data []byte) (*kstatesv1alpha1.PayloadReference, error) {
	if len(data) > kstatesv1alpha1.MaxPayloadObjectBytes {
		return nil, fmt.Errorf("%s data of %d bytes is more than a Payload holds (%d)", purpose, len(data), kstatesv1alpha1.MaxPayloadObjectBytes)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	p := &kstatesv1alpha1.Payload{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: exec.Namespace,
			Name:      kstatesv1alpha1.PayloadName(objectPrefix(exec), hash),
			Labels:    map[string]string{kstatesv1alpha1.LabelExecutionUID: string(exec.UID)},
		},
		Spec: kstatesv1alpha1.PayloadSpec{ExecutionName: exec.Name, Purpose: purpose, Data: string(data), SHA256: hash},
	}
	if err := controllerutil.SetControllerReference(exec, p, r.Scheme()); err != nil {
		return nil, err
	}
	if err := r.Create(ctx, p); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating payload %s: %w", p.Name, err)
	}
	return &kstatesv1alpha1.PayloadReference{Name: p.Name, Size: int64(len(data)), SHA256: hash}, nil
}

// storeStatePart creates the Payload of a part of an execution's engine state, unless it is
// known to exist, and returns its name. data is built only when the payload is created.
func (r *ExecutionReconciler) storeStatePart(ctx context.Context, exec *kstatesv1alpha1.Execution, hash string, data func() []byte) (string, error) {
	name := kstatesv1alpha1.EngineStatePartName(objectPrefix(exec), hash)
	key := exec.Namespace + "/" + name
	if r.states().isKnown(key) {
		return name, nil
	}
	b := data()
	if len(b) > kstatesv1alpha1.MaxPayloadObjectBytes {
		return "", permanentError{fmt.Errorf("a part of the execution's engine state is %d bytes, more than a Payload holds (%d)", len(b), kstatesv1alpha1.MaxPayloadObjectBytes)}
	}
	p := &kstatesv1alpha1.Payload{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: exec.Namespace,
			Name:      name,
			Labels:    map[string]string{kstatesv1alpha1.LabelExecutionUID: string(exec.UID)},
		},
		Spec: kstatesv1alpha1.PayloadSpec{ExecutionName: exec.Name, Purpose: kstatesv1alpha1.PayloadEngineState, Data: string(b), SHA256: hash},
	}
	if err := controllerutil.SetControllerReference(exec, p, r.Scheme()); err != nil {
		return "", err
	}
	if err := r.Create(ctx, p); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("creating payload %s: %w", p.Name, err)
	}
	r.states().setKnown(key)
	return name, nil
}

// loadStatePart reads the Payload of a part of an execution's engine state from the API server
// (Payloads are not cached by an informer: the controller keeps the parts it uses in memory,
// and reads one only after a restart or when another process wrote it).
func (r *ExecutionReconciler) loadStatePart(ctx context.Context, exec *kstatesv1alpha1.Execution, hash string) ([]byte, error) {
	name := kstatesv1alpha1.EngineStatePartName(objectPrefix(exec), hash)
	b, err := r.loadPayload(ctx, exec.Namespace, &kstatesv1alpha1.PayloadReference{Name: name, SHA256: hash})
	if err != nil {
		return nil, err
	}
	r.states().setKnown(exec.Namespace + "/" + name)
	return b, nil
}

// loadPayload reads a Payload from the API server and checks its hash.
func (r *ExecutionReconciler) loadPayload(ctx context.Context, ns string, ref *kstatesv1alpha1.PayloadReference) ([]byte, error) {
	p := &kstatesv1alpha1.Payload{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, p); err != nil {
		return nil, fmt.Errorf("reading payload %s: %w", ref.Name, err)
	}
	sum := sha256.Sum256([]byte(p.Spec.Data))
	if hex.EncodeToString(sum[:]) != p.Spec.SHA256 || (ref.SHA256 != "" && ref.SHA256 != p.Spec.SHA256) {
		return nil, fmt.Errorf("payload %s: its data does not match its sha256", ref.Name)
	}
	return []byte(p.Spec.Data), nil
}

// externalizeDetails moves event details over MaxInlineDetailsBytes into Payloads.
func (r *ExecutionReconciler) externalizeDetails(ctx context.Context, exec *kstatesv1alpha1.Execution, events []kstatesv1alpha1.HistoryEvent) error {
	for i := range events {
		e := &events[i]
		if e.Details == nil || len(e.Details.Raw) <= kstatesv1alpha1.MaxInlineDetailsBytes {
			continue
		}
		ref, err := r.storePayload(ctx, exec, kstatesv1alpha1.PayloadEventDetails, e.Details.Raw)
		if err != nil {
			return fmt.Errorf("history event %d: %w", e.ID, err)
		}
		e.Details, e.DetailsRef = nil, ref
	}
	return nil
}

// maxOverflowChunkEvents is the most events put into one chunk when a single step produced
// more events than a window holds (a Map starting or ending hundreds of iterations at once);
// with details of at most 2 KiB each, such a chunk stays under ~500 KiB.
const maxOverflowChunkEvents = 4 * kstatesv1alpha1.WindowEvents

// keepInWindow is how many of a step's events stay in the window when the step overflowed it.
const keepInWindow = 10

// appendHistory adds events to the status's window, first sealing the oldest committed events
// into the next HistoryChunk when the window would exceed its budget. A chunk is created (or,
// after a crash, found) before this status write drops its events from the window. When one
// step produced more events than a window holds, the whole committed window and all but the
// last few new events are sealed, in order, so that ids stay contiguous.
func (r *ExecutionReconciler) appendHistory(ctx context.Context, exec *kstatesv1alpha1.Execution, h *kstatesv1alpha1.ExecutionHistory, events []kstatesv1alpha1.HistoryEvent) error {
	if len(events) > kstatesv1alpha1.WindowEvents {
		if len(h.Events) > 0 {
			if err := r.seal(ctx, exec, h, h.Events); err != nil {
				return err
			}
		}
		for len(events) > keepInWindow {
			k := min(len(events)-keepInWindow, maxOverflowChunkEvents)
			if err := r.seal(ctx, exec, h, events[:k]); err != nil {
				return err
			}
			events = events[k:]
		}
	} else if n := history.SealCount(h.Events, events); n > 0 {
		if err := r.seal(ctx, exec, h, h.Events[:n]); err != nil {
			return err
		}
	}
	h.Events = append(h.Events, events...)
	if len(h.Events) > 0 {
		h.EventCount = h.Events[len(h.Events)-1].ID
	}
	return nil
}

// seal writes events (the oldest of the window, or a step's overflow) into chunk number
// h.ChunkCount and removes them from the window.
func (r *ExecutionReconciler) seal(ctx context.Context, exec *kstatesv1alpha1.Execution, h *kstatesv1alpha1.ExecutionHistory, sealed []kstatesv1alpha1.HistoryEvent) error {
	if h.ChunkPrefix == "" {
		h.ChunkPrefix = objectPrefix(exec)
	}
	sealed = append([]kstatesv1alpha1.HistoryEvent(nil), sealed...)
	if err := r.createChunk(ctx, exec, h, sealed); err != nil {
		return err
	}
	h.ChunkCount++
	h.SealedEventCount = sealed[len(sealed)-1].ID
	var rest []kstatesv1alpha1.HistoryEvent
	for _, e := range h.Events {
		if e.ID > h.SealedEventCount {
			rest = append(rest, e)
		}
	}
	h.Events = rest
	return nil
}

// createChunk writes chunk number h.ChunkCount with the sealed events. When it exists, a
// previous attempt made it and crashed (or lost a conflict) before its status write: no
// committed status refers to it (its number is not below the committed chunkCount). If it
// holds the same events it is used; otherwise it is replaced, so that the chunk always
// matches the status that refers to it.
func (r *ExecutionReconciler) createChunk(ctx context.Context, exec *kstatesv1alpha1.Execution, h *kstatesv1alpha1.ExecutionHistory, sealed []kstatesv1alpha1.HistoryEvent) error {
	c := &kstatesv1alpha1.HistoryChunk{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: exec.Namespace,
			Name:      kstatesv1alpha1.HistoryChunkName(h.ChunkPrefix, h.ChunkCount),
			Labels:    map[string]string{kstatesv1alpha1.LabelExecutionUID: string(exec.UID)},
		},
		Spec: kstatesv1alpha1.HistoryChunkSpec{
			ExecutionName: exec.Name, Sequence: h.ChunkCount,
			FirstEventID: sealed[0].ID, LastEventID: sealed[len(sealed)-1].ID,
			Events: sealed,
		},
	}
	if err := controllerutil.SetControllerReference(exec, c, r.Scheme()); err != nil {
		return err
	}
	err := r.Create(ctx, c)
	if err == nil {
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating history chunk %s: %w", c.Name, err)
	}
	old := &kstatesv1alpha1.HistoryChunk{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(c), old); err != nil {
		return fmt.Errorf("reading history chunk %s: %w", c.Name, err)
	}
	if equality.Semantic.DeepEqual(old.Spec, c.Spec) {
		return nil
	}
	if exec.Status.History.ChunkCount > h.ChunkCount {
		return fmt.Errorf("history chunk %s is committed and holds other events", c.Name)
	}
	if err := r.Delete(ctx, old, client.Preconditions{UID: &old.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("replacing history chunk %s: %w", c.Name, err)
	}
	if err := r.Create(ctx, c); err != nil {
		return fmt.Errorf("replacing history chunk %s: %w", c.Name, err)
	}
	return nil
}
