package envtest

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/cli"
)

// A revision is made with the in-use finalizer and its StateMachine as controller, and
// executions starting on it never write it: its resourceVersion stays as it was made.
func TestRevisionIsNotWrittenWhenExecutionsStart(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	sm := makeStateMachine(ns, "m", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`).obj()
	create(ctx, t, sm)
	rev := currentRevision(ctx, t, sm)
	if !controllerutil.ContainsFinalizer(rev, kstatesv1alpha1.FinalizerRevisionInUse) {
		t.Errorf("revision finalizers %v, want %s", rev.Finalizers, kstatesv1alpha1.FinalizerRevisionInUse)
	}
	if o := metav1.GetControllerOf(rev); o == nil || o.UID != sm.UID || len(rev.OwnerReferences) != 1 {
		t.Errorf("revision owners %+v, want the StateMachine as controller only", rev.OwnerReferences)
	}
	made := rev.ResourceVersion
	for _, name := range []string{"a", "b", "c"} {
		create(ctx, t, makeExecution(ns, name).stateMachine("m").obj())
	}
	for _, name := range []string{"a", "b", "c"} {
		if got := waitPhase(ctx, t, ns, name, kstatesv1alpha1.ExecutionSucceeded); got.Status.Revision != rev.Name {
			t.Errorf("execution %s ran revision %q, want %q", name, got.Status.Revision, rev.Name)
		}
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rev), rev); err != nil {
		t.Fatal(err)
	}
	if rev.ResourceVersion != made || len(rev.OwnerReferences) != 1 {
		t.Errorf("the revision was written when executions started: resourceVersion %s -> %s, owners %+v", made, rev.ResourceVersion, rev.OwnerReferences)
	}
}

// A revision deleted while an execution runs it (here by the garbage collector after its
// StateMachine was deleted; envtest has none, so the test deletes it) stays, held by its
// finalizer, and the execution runs on to its end. A new execution pinned to it does not start
// on it. Once the running execution is deleted, the revision goes.
func TestRevisionInUseOutlivesItsDeletion(t *testing.T) {
	ctx, ns := setup(t)
	var cached client.Client // the manager's cache, to know when it has seen the deletion
	startManagerWith(t, ns, nil, func(er *controllers.ExecutionReconciler) { cached = er.Client })
	sm := makeStateMachine(ns, "m", taskDefinition).obj()
	create(ctx, t, sm)
	running := makeExecution(ns, "running").stateMachine("m").obj()
	create(ctx, t, running)
	pod := taskPod(ctx, t, ns, running, "T", 0)
	running = waitFor(ctx, t, running, "a pinned revision", func(e *kstatesv1alpha1.Execution) bool { return e.Status.Revision != "" })
	rev := &kstatesv1alpha1.StateMachineRevision{ObjectMeta: metaName(ns, running.Status.Revision)}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rev), rev); err != nil {
		t.Fatal(err)
	}
	uid := rev.UID

	// The StateMachine goes, then (the garbage collector's part) its revision.
	if err := k8sClient.Delete(ctx, sm); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, rev); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, rev, "the deletion in the manager's cache", func(*kstatesv1alpha1.StateMachineRevision) bool {
		seen := &kstatesv1alpha1.StateMachineRevision{}
		return cached.Get(ctx, client.ObjectKeyFromObject(rev), seen) == nil && !seen.DeletionTimestamp.IsZero()
	})

	// A new execution pinned to it waits.
	pinned := makeExecution(ns, "pinned").stateMachine("m").obj()
	pinned.Spec.Revision = rev.Name
	create(ctx, t, pinned)
	waitFor(ctx, t, pinned, "RevisionNotFound (being deleted)", func(e *kstatesv1alpha1.Execution) bool {
		c := condition(e.Status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved)
		return e.Status.Phase == kstatesv1alpha1.ExecutionPending && c != nil && c.Status == metav1.ConditionFalse &&
			c.Reason == kstatesv1alpha1.ReasonRevisionNotFound && strings.Contains(c.Message, "being deleted")
	})

	// The running one reads its revision on to the end (a revision gone would fail it).
	completePod(ctx, t, pod, 0, `"r"`)
	if got := waitPhase(ctx, t, ns, "running", kstatesv1alpha1.ExecutionSucceeded); !jsonEq(got.Status.Output, `{"v1":"r"}`) {
		t.Errorf("output %s", got.Status.Output)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rev), rev); err != nil {
		t.Fatalf("the revision of an existing execution is gone: %v", err)
	}
	if rev.UID != uid || rev.DeletionTimestamp.IsZero() || !controllerutil.ContainsFinalizer(rev, kstatesv1alpha1.FinalizerRevisionInUse) {
		t.Errorf("revision uid %s (was %s), deletionTimestamp %v, finalizers %v", rev.UID, uid, rev.DeletionTimestamp, rev.Finalizers)
	}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(pinned), pinned); err != nil || pinned.Status.Phase != kstatesv1alpha1.ExecutionPending {
		t.Errorf("the pinned execution is %s (err %v), want Pending", pinned.Status.Phase, err)
	}

	// Deleting the execution that ran it releases it.
	if err := k8sClient.Delete(ctx, running); err != nil {
		t.Fatal(err)
	}
	waitGone(ctx, t, rev)
	waitFor(ctx, t, pinned, "RevisionNotFound (does not exist)", func(e *kstatesv1alpha1.Execution) bool {
		c := condition(e.Status.Conditions, kstatesv1alpha1.ConditionStateMachineResolved)
		return e.Status.Phase == kstatesv1alpha1.ExecutionPending && c != nil &&
			c.Reason == kstatesv1alpha1.ReasonRevisionNotFound && strings.Contains(c.Message, "does not exist")
	})
}

// A revision that no execution runs goes once its grace after the deletion has passed; so
// does one whose only execution was deleted before.
func TestUnusedRevisionGoesWhenDeleted(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	sm := makeStateMachine(ns, "m", `{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`).obj()
	create(ctx, t, sm, makeExecution(ns, "e").stateMachine("m").obj())
	e := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	if err := k8sClient.Delete(ctx, e); err != nil {
		t.Fatal(err)
	}
	waitGone(ctx, t, e)
	rev := currentRevision(ctx, t, sm)
	if err := k8sClient.Delete(ctx, sm); err != nil {
		t.Fatal(err)
	}
	if err := k8sClient.Delete(ctx, rev); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	// For a grace after its deletion it stays (an execution that read it just before may be
	// committing its start), then it goes.
	time.Sleep(time.Second)
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(rev), rev); err != nil {
		t.Fatalf("the revision went within a second of its deletion: %v", err)
	}
	waitGone(ctx, t, rev)
	if d := time.Since(deleted); d < 4*time.Second {
		t.Errorf("the revision went %v after its deletion, before its grace", d)
	}
}

// A revision made before the finalizer existed (an upgraded cluster) gets it. One that an
// execution of such an operator owns is in use: deleted, it stays until that owner reference
// is gone (the garbage collector removes it when the execution is deleted).
func TestRevisionOfAnOlderOperatorGetsTheFinalizer(t *testing.T) {
	ctx, ns := setup(t)
	rev := revision(ns)
	rev.OwnerReferences = []metav1.OwnerReference{{APIVersion: kstatesv1alpha1.GroupVersion.String(), Kind: "Execution", Name: "old", UID: "0b1d"}}
	create(ctx, t, rev)
	startManager(t, ns, nil)
	waitFor(ctx, t, rev, "the finalizer", func(r *kstatesv1alpha1.StateMachineRevision) bool {
		return controllerutil.ContainsFinalizer(r, kstatesv1alpha1.FinalizerRevisionInUse)
	})
	if err := k8sClient.Delete(ctx, rev); err != nil {
		t.Fatal(err)
	}
	rev = waitFor(ctx, t, rev, "the deletion", func(r *kstatesv1alpha1.StateMachineRevision) bool { return !r.DeletionTimestamp.IsZero() })
	// The owner reference goes (the garbage collector's part): a revision gone by now fails this.
	if err := k8sClient.Patch(ctx, rev, client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"ownerReferences":null}}`))); err != nil {
		t.Fatalf("removing the execution's owner reference: %v", err)
	}
	waitGone(ctx, t, rev)
}

// currentRevision waits for the StateMachine's current revision and returns it.
func currentRevision(ctx context.Context, t *testing.T, sm *kstatesv1alpha1.StateMachine) *kstatesv1alpha1.StateMachineRevision {
	t.Helper()
	sm = waitFor(ctx, t, sm, "a current revision", func(sm *kstatesv1alpha1.StateMachine) bool {
		return sm.Status.CurrentRevision != "" && sm.Status.ObservedGeneration == sm.Generation
	})
	rev := &kstatesv1alpha1.StateMachineRevision{}
	if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: sm.Namespace, Name: sm.Status.CurrentRevision}, rev); err != nil {
		t.Fatal(err)
	}
	return rev
}

// waitGone waits until the object (that UID) no longer exists.
func waitGone(ctx context.Context, t *testing.T, obj client.Object) {
	t.Helper()
	uid := obj.GetUID()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if isNotFound(err) || (err == nil && obj.GetUID() != uid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s still exists (finalizers %v, deletionTimestamp %v)", obj.GetName(), obj.GetFinalizers(), obj.GetDeletionTimestamp())
}

// A StateMachine's roleArn (an AWS definition's IAM role) is reported as AWS reports it:
// $$.Execution.RoleArn and ExecutionStarted's roleArn. It belongs to the revision: a new
// roleArn is a new revision, and a running execution keeps its own.
func TestRoleArnIsReportedAndMakesARevision(t *testing.T) {
	ctx, ns := setup(t)
	startManager(t, ns, nil)
	const role = "arn:aws:iam::123456789012:role/order-processing"
	sm := makeStateMachine(ns, "m", `{"StartAt":"A","States":{"A":{"Type":"Pass","Parameters":{"role.$":"$$.Execution.RoleArn"},"End":true}}}`).obj()
	sm.Spec.RoleArn = role
	create(ctx, t, sm, makeExecution(ns, "e").stateMachine("m").obj())
	e := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded)
	if want := `{"role":"` + role + `"}`; e.Status.Output != want {
		t.Errorf("output %s, want %s", e.Status.Output, want)
	}
	events, err := cli.ReadHistory(ctx, k8sClient, e)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) == 0 || events[0].Type != "ExecutionStarted" || events[0].Details == nil ||
		!strings.Contains(string(events[0].Details.Raw), `"roleArn":"`+role+`"`) {
		t.Errorf("ExecutionStarted does not report the role: %+v", events[:1])
	}
	first := currentRevision(ctx, t, sm)
	if first.Spec.RoleArn != role {
		t.Errorf("revision roleArn %q, want %q", first.Spec.RoleArn, role)
	}

	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(sm), sm); err != nil {
		t.Fatal(err)
	}
	sm.Spec.RoleArn = ""
	if err := k8sClient.Update(ctx, sm); err != nil {
		t.Fatal(err)
	}
	second := currentRevision(ctx, t, sm)
	if second.Name == first.Name || second.Spec.RoleArn != "" {
		t.Errorf("after the roleArn was removed the current revision is %s (roleArn %q), want a new one without it", second.Name, second.Spec.RoleArn)
	}
	create(ctx, t, makeExecution(ns, "e2").stateMachine("m").obj())
	if e2 := waitPhase(ctx, t, ns, "e2", kstatesv1alpha1.ExecutionSucceeded); e2.Status.Output != `{"role":""}` {
		t.Errorf("without a roleArn the output is %s, want an empty role as before", e2.Status.Output)
	}
}
