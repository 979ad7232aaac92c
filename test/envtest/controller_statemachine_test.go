package envtest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
)

// A valid StateMachine gets Valid=True and a revision; an edit makes a second revision, going
// back to the first content finds the first revision again.
func TestStateMachineControllerMakesOneRevisionPerContent(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	sm := makeStateMachine(ns, "order", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`).obj()
	create(ctx, t, sm)
	sm = waitFor(ctx, t, sm, "a valid revision", func(sm *kstatesv1alpha1.StateMachine) bool {
		c := condition(sm.Status.Conditions, kstatesv1alpha1.ConditionValid)
		return c != nil && c.Status == metav1.ConditionTrue && sm.Status.CurrentRevision != "" && sm.Status.ObservedGeneration == sm.Generation
	})
	first := sm.Status.CurrentRevision
	if !strings.HasPrefix(first, "order-") || sm.Status.RevisionCount != 1 {
		t.Fatalf("first revision %q, count %d", first, sm.Status.RevisionCount)
	}
	rev := &kstatesv1alpha1.StateMachineRevision{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: first}, rev); err != nil {
		t.Fatal(err)
	}
	if rev.Spec.Sequence != 1 || rev.Spec.Definition != `{"StartAt":"A","States":{"A":{"End":true,"Type":"Pass"}}}` || rev.Spec.Type != kstatesv1alpha1.StateMachineTypeStandard {
		t.Fatalf("revision spec: %+v", rev.Spec)
	}
	if len(rev.OwnerReferences) != 1 || rev.OwnerReferences[0].UID != sm.UID {
		t.Fatalf("revision owners: %+v", rev.OwnerReferences)
	}

	// The same document as YAML is the same revision; a label change is no new revision.
	sm.Spec.DefinitionString = "StartAt: B\nStates:\n  B: {Type: Succeed}\n"
	if err := k8sClient.Update(ctx, sm); err != nil {
		t.Fatal(err)
	}
	sm = waitFor(ctx, t, sm, "a second revision", func(sm *kstatesv1alpha1.StateMachine) bool {
		return sm.Status.ObservedGeneration == sm.Generation && sm.Status.CurrentRevision != first
	})
	second := sm.Status.CurrentRevision
	if sm.Status.RevisionCount != 2 {
		t.Fatalf("revisionCount %d, want 2", sm.Status.RevisionCount)
	}
	sm.Spec.DefinitionString = "# the first one again, as YAML\nStartAt: A\nStates: {A: {Type: Pass, End: true}}\n"
	if err := k8sClient.Update(ctx, sm); err != nil {
		t.Fatal(err)
	}
	sm = waitFor(ctx, t, sm, "the first revision again", func(sm *kstatesv1alpha1.StateMachine) bool {
		return sm.Status.ObservedGeneration == sm.Generation && sm.Status.CurrentRevision != second
	})
	if sm.Status.CurrentRevision != first || sm.Status.RevisionCount != 2 {
		t.Fatalf("went back to %q (count %d), want %q (count 2)", sm.Status.CurrentRevision, sm.Status.RevisionCount, first)
	}
	revs := &kstatesv1alpha1.StateMachineRevisionList{}
	if err := k8sClient.List(ctx, revs, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	if len(revs.Items) != 2 {
		t.Fatalf("%d revisions, want 2", len(revs.Items))
	}
}

// An invalid definition is a False condition naming the location, with the diagnostics in the
// status and no revision; the controller does not retry it (no hot loop), and fixing it makes it
// valid.
func TestStateMachineControllerReportsAnInvalidDefinition(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	cases := []struct {
		reason, name, definition, wantReason, wantInMessage string
	}{
		{"a Next to a missing state is located", "bad-next",
			`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"Nowhere"}}}`,
			kstatesv1alpha1.ReasonDefinitionInvalid, "/States/A/Next"},
		{"text that is neither JSON nor YAML is unreadable", "unreadable",
			"{not json",
			kstatesv1alpha1.ReasonDefinitionUnreadable, "INVALID_JSON_DESCRIPTION"},
	}
	for _, c := range cases {
		sm := makeStateMachine(ns, c.name, c.definition).obj()
		create(ctx, t, sm)
		sm = waitFor(ctx, t, sm, "Valid=False", func(sm *kstatesv1alpha1.StateMachine) bool {
			v := condition(sm.Status.Conditions, kstatesv1alpha1.ConditionValid)
			return v != nil && v.Status == metav1.ConditionFalse
		})
		v := condition(sm.Status.Conditions, kstatesv1alpha1.ConditionValid)
		if v.Reason != c.wantReason || !strings.Contains(v.Message, c.wantInMessage) {
			t.Errorf("%s: condition %s %q, want reason %s and %q in the message", c.reason, v.Reason, v.Message, c.wantReason, c.wantInMessage)
		}
		if len(sm.Status.Diagnostics) == 0 || sm.Status.CurrentRevision != "" {
			t.Errorf("%s: diagnostics %+v, currentRevision %q", c.reason, sm.Status.Diagnostics, sm.Status.CurrentRevision)
		}
	}
	// No crash loop: the status is written once and stays as it is.
	sm := &kstatesv1alpha1.StateMachine{}
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bad-next"}, sm); err != nil {
		t.Fatal(err)
	}
	rv := sm.ResourceVersion
	sleep(2)
	if err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "bad-next"}, sm); err != nil {
		t.Fatal(err)
	}
	if sm.ResourceVersion != rv {
		t.Errorf("the invalid StateMachine was written again (resourceVersion %s -> %s)", rv, sm.ResourceVersion)
	}
	// Fixing it makes it valid.
	sm.Spec.DefinitionString = `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`
	if err := k8sClient.Update(ctx, sm); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, sm, "Valid=True", func(sm *kstatesv1alpha1.StateMachine) bool {
		v := condition(sm.Status.Conditions, kstatesv1alpha1.ConditionValid)
		return v != nil && v.Status == metav1.ConditionTrue && sm.Status.CurrentRevision != "" && len(sm.Status.Diagnostics) == 0
	})
}

// Old revisions are pruned beyond the last 10 that no execution runs; a revision an execution
// ran is kept for as long as that execution exists, and pruned at the next edit after it is
// deleted.
func TestOldRevisionsArePrunedUnlessAnExecutionRunsThem(t *testing.T) {
	ctx, ns := setup(t)
	var cached client.Client // the manager's cache, to know when it has seen e's deletion
	startManagerWith(t, ns, nil, func(er *controllers.ExecutionReconciler) { cached = er.Client })
	def := func(i int) string {
		return fmt.Sprintf(`{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"v%d","End":true}}}`, i)
	}
	sm := makeStateMachine(ns, "m", def(1)).obj()
	create(ctx, t, sm, makeExecution(ns, "e").stateMachine("m").obj())
	e := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	revs := map[int]string{1: e.Status.Revision}
	edit := func(i int) {
		t.Helper()
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sm), sm); err != nil {
			t.Fatal(err)
		}
		sm.Spec.DefinitionString = def(i)
		if err := k8sClient.Update(ctx, sm); err != nil {
			t.Fatal(err)
		}
		sm = waitFor(ctx, t, sm, "revision "+strconv.Itoa(i), func(sm *kstatesv1alpha1.StateMachine) bool {
			return sm.Status.ObservedGeneration == sm.Generation && sm.Status.RevisionCount == int64(i)
		})
		revs[i] = sm.Status.CurrentRevision
	}
	for i := 2; i <= 13; i++ {
		edit(i)
	}
	exists := func(name string) bool {
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &kstatesv1alpha1.StateMachineRevision{})
		if err != nil && !isNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}
	gone := func(i int) {
		t.Helper()
		waitGone(ctx, t, &kstatesv1alpha1.StateMachineRevision{ObjectMeta: metaName(ns, revs[i])})
	}
	// Revision 2, the oldest of 11 unused ones, is pruned (and, with no execution, goes).
	gone(2)
	if !exists(revs[1]) {
		t.Errorf("revision 1, run by execution e, was pruned")
	}
	for i := 3; i <= 13; i++ {
		if !exists(revs[i]) {
			t.Errorf("revision %d was pruned", i)
		}
	}
	// Without its execution, revision 1 is one more unused revision: the next edit prunes it
	// with revision 3 (12 unused, 10 kept).
	if err := k8sClient.Delete(ctx, e); err != nil {
		t.Fatal(err)
	}
	waitGone(ctx, t, e)
	waitFor(ctx, t, sm, "e gone from the manager's cache", func(*kstatesv1alpha1.StateMachine) bool {
		return isNotFound(cached.Get(ctx, client.ObjectKeyFromObject(e), &kstatesv1alpha1.Execution{}))
	})
	edit(14)
	gone(1)
	gone(3)
	for i := 4; i <= 14; i++ {
		if !exists(revs[i]) {
			t.Errorf("revision %d was pruned", i)
		}
	}
}
