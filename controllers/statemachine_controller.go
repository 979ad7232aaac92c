package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine/asl"
)

// maxConditionDiagnostics is how many diagnostics the Valid condition's message lists; all of
// them (up to the schema's 100) are in status.diagnostics.
const maxConditionDiagnostics = 5

// maxDiagnostics is the schema's cap on status.diagnostics.
const maxDiagnostics = 100

// StateMachineReconciler validates StateMachines with the engine's parser, reports the
// located diagnostics, and snapshots every distinct valid content into an immutable
// StateMachineRevision.
type StateMachineReconciler struct {
	client.Client
}

// SetupWithManager registers the reconciler: it watches StateMachines and the revisions it owns.
// It also registers the revision controller (revision_controller.go), which keeps revisions
// while executions run them, and the cache's index of Executions by status.revision that both
// use, so that every manager that runs StateMachines gets them.
func (r *StateMachineReconciler) SetupWithManager(mgr ctrl.Manager) error {
	if err := indexExecutionRevision(mgr); err != nil {
		return err
	}
	if err := ctrl.NewControllerManagedBy(mgr).
		For(&kstatesv1alpha1.StateMachine{}).
		Owns(&kstatesv1alpha1.StateMachineRevision{}).
		Named("statemachine").
		Complete(r); err != nil {
		return err
	}
	return (&revisionReconciler{Client: r.Client}).setupWithManager(mgr)
}

// Reconcile validates one StateMachine and records the outcome in its status.
func (r *StateMachineReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	sm := &kstatesv1alpha1.StateMachine{}
	if err := r.Get(ctx, req.NamespacedName, sm); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !sm.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	status := sm.Status.DeepCopy()
	if err := r.reconcile(ctx, sm, status); err != nil {
		return ctrl.Result{}, err
	}
	if equality.Semantic.DeepEqual(&sm.Status, status) {
		return ctrl.Result{}, nil
	}
	sm.Status = *status
	return ctrl.Result{}, r.Status().Update(ctx, sm)
}

// reconcile computes the new status: validity, diagnostics and the current revision.
func (r *StateMachineReconciler) reconcile(ctx context.Context, sm *kstatesv1alpha1.StateMachine, status *kstatesv1alpha1.StateMachineStatus) error {
	status.ObservedGeneration = sm.Generation
	text := definitionText(&sm.Spec)
	def, diags := asl.Parse(text, asl.Options{Type: string(sm.Spec.Type)})
	status.Diagnostics = apiDiagnostics(diags)
	if def == nil || asl.HasErrors(diags) {
		// An invalid definition is the user's to fix: a condition, no error, no requeue.
		reason := kstatesv1alpha1.ReasonDefinitionInvalid
		if def == nil {
			reason = kstatesv1alpha1.ReasonDefinitionUnreadable
		}
		setCondition(&status.Conditions, kstatesv1alpha1.ConditionValid, metav1.ConditionFalse, reason, diagnosticsMessage(diags), sm.Generation)
		status.CurrentRevision = ""
		return nil
	}
	canonical, err := canonicalDefinition(text)
	if err != nil {
		setCondition(&status.Conditions, kstatesv1alpha1.ConditionValid, metav1.ConditionFalse,
			kstatesv1alpha1.ReasonDefinitionUnreadable, "spec.definitionString: "+err.Error(), sm.Generation)
		status.CurrentRevision = ""
		return nil
	}
	rev, err := r.ensureRevision(ctx, sm, canonical, status.RevisionCount+1)
	if err != nil {
		return err
	}
	status.CurrentRevision = rev.Name
	if rev.Spec.Sequence > status.RevisionCount {
		status.RevisionCount = rev.Spec.Sequence
	}
	if err := r.pruneRevisions(ctx, sm, rev.Name); err != nil {
		return err
	}
	msg := "The definition is valid"
	if len(diags) > 0 {
		msg += " (warnings: " + diagnosticsMessage(diags) + ")"
	}
	setCondition(&status.Conditions, kstatesv1alpha1.ConditionValid, metav1.ConditionTrue, kstatesv1alpha1.ReasonDefinitionValid, msg, sm.Generation)
	return nil
}

// ensureRevision creates the revision of the current content, or finds it when it exists
// (an earlier content the user went back to, or a revision made before a crash).
func (r *StateMachineReconciler) ensureRevision(ctx context.Context, sm *kstatesv1alpha1.StateMachine, canonical string, sequence int64) (*kstatesv1alpha1.StateMachineRevision, error) {
	spec, err := newRevisionSpec(sm, canonical)
	if err != nil {
		return nil, err
	}
	name := kstatesv1alpha1.RevisionName(sm.Name, spec.Hash)
	rev := &kstatesv1alpha1.StateMachineRevision{}
	err = r.Get(ctx, types.NamespacedName{Namespace: sm.Namespace, Name: name}, rev)
	if err == nil {
		return rev, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, err
	}
	spec.Sequence = sequence
	rev = &kstatesv1alpha1.StateMachineRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: sm.Namespace, Name: name,
			Labels: map[string]string{
				kstatesv1alpha1.LabelStateMachineUID: string(sm.UID),
				kstatesv1alpha1.LabelDefinitionHash:  spec.Hash[:10],
			},
			// Held while an execution runs it (revision_controller.go).
			Finalizers: []string{kstatesv1alpha1.FinalizerRevisionInUse},
		},
		Spec: spec,
	}
	if len(sm.Name) <= 63 {
		rev.Labels[kstatesv1alpha1.LabelStateMachine] = sm.Name
	}
	if err := controllerutil.SetControllerReference(sm, rev, r.Scheme()); err != nil {
		return nil, err
	}
	err = r.Create(ctx, rev)
	if apierrors.IsAlreadyExists(err) {
		// The cache had not seen it yet: read it from the API server.
		if err := r.Get(ctx, client.ObjectKeyFromObject(rev), rev); err != nil {
			return nil, err
		}
		return rev, nil
	}
	if err != nil {
		return nil, fmt.Errorf("creating revision %s: %w", name, err)
	}
	log.FromContext(ctx).V(1).Info("created revision", "revision", name, "sequence", sequence)
	return rev, nil
}

// keptRevisions is how many old revisions that no execution runs are kept per state machine.
const keptRevisions = 10

// pruneRevisions deletes the oldest revisions of the state machine beyond keptRevisions that
// are not current and that no Execution runs. The delete is conditional on the revision's
// resourceVersion. An execution that starts on the revision at that moment keeps it through
// its finalizer once its status.revision names it (revision_controller.go), and one that has
// not started does not start on a revision being deleted.
func (r *StateMachineReconciler) pruneRevisions(ctx context.Context, sm *kstatesv1alpha1.StateMachine, current string) error {
	list := &kstatesv1alpha1.StateMachineRevisionList{}
	if err := r.List(ctx, list, client.InNamespace(sm.Namespace),
		client.MatchingLabels{kstatesv1alpha1.LabelStateMachineUID: string(sm.UID)}); err != nil {
		return err
	}
	prune, err := revisionsToPrune(list.Items, current, func(rev *kstatesv1alpha1.StateMachineRevision) (bool, error) {
		return revisionInUse(ctx, r.Client, rev)
	})
	if err != nil {
		return err
	}
	for _, rev := range prune {
		rv := rev.ResourceVersion
		err := r.Delete(ctx, rev, client.Preconditions{ResourceVersion: &rv})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("pruning revision %s: %w", rev.Name, err)
		}
	}
	return nil
}

// revisionsToPrune chooses, among a state machine's revisions, the oldest (by sequence)
// beyond keptRevisions of those that are not current, not already being deleted and not in
// use. inUse is asked only when there are more than keptRevisions old revisions at all.
func revisionsToPrune(revs []kstatesv1alpha1.StateMachineRevision, current string,
	inUse func(*kstatesv1alpha1.StateMachineRevision) (bool, error)) ([]*kstatesv1alpha1.StateMachineRevision, error) {
	var old []*kstatesv1alpha1.StateMachineRevision
	for i := range revs {
		rev := &revs[i]
		if rev.Name != current && rev.DeletionTimestamp.IsZero() {
			old = append(old, rev)
		}
	}
	if len(old) <= keptRevisions {
		return nil, nil
	}
	var unused []*kstatesv1alpha1.StateMachineRevision
	for _, rev := range old {
		used, err := inUse(rev)
		if err != nil {
			return nil, err
		}
		if !used {
			unused = append(unused, rev)
		}
	}
	if len(unused) <= keptRevisions {
		return nil, nil
	}
	sort.Slice(unused, func(i, j int) bool { return unused[i].Spec.Sequence < unused[j].Spec.Sequence })
	return unused[:len(unused)-keptRevisions], nil
}

// apiDiagnostics converts the parser's diagnostics to the API's, at most 100.
func apiDiagnostics(diags []asl.Diagnostic) []kstatesv1alpha1.Diagnostic {
	if len(diags) == 0 {
		return nil
	}
	out := make([]kstatesv1alpha1.Diagnostic, 0, min(len(diags), maxDiagnostics))
	for _, d := range diags {
		if len(out) == maxDiagnostics {
			break
		}
		out = append(out, kstatesv1alpha1.Diagnostic{
			Code: truncate(d.Code, 128), Severity: d.Severity,
			Location: truncate(d.Location, 1024), Message: truncate(d.Message, 2048),
		})
	}
	return out
}

// diagnosticsMessage lists the first few diagnostics as "CODE at LOCATION: MESSAGE".
func diagnosticsMessage(diags []asl.Diagnostic) string {
	var b strings.Builder
	n := 0
	for _, d := range diags {
		if n == maxConditionDiagnostics {
			fmt.Fprintf(&b, "; and %d more (status.diagnostics)", len(diags)-n)
			break
		}
		if n > 0 {
			b.WriteString("; ")
		}
		loc := d.Location
		if loc == "" {
			loc = "/"
		}
		fmt.Fprintf(&b, "%s: %s (%s)", loc, d.Message, d.Code)
		n++
	}
	return truncate(b.String(), 32768)
}

// setCondition sets a condition, keeping its transition time when the status is unchanged.
func setCondition(conds *[]metav1.Condition, typ string, status metav1.ConditionStatus, reason, msg string, gen int64) {
	meta.SetStatusCondition(conds, metav1.Condition{
		Type: typ, Status: status, Reason: reason, Message: truncate(msg, 32768), ObservedGeneration: gen,
	})
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 3
	for cut > 0 && (s[cut]&0xC0) == 0x80 {
		cut--
	}
	return s[:cut] + "..."
}
