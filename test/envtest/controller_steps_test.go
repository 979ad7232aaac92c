package envtest

import (
	"context"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/test/testenv"
)

// statusWritesPerReconcile runs one execution of a 12-state Pass/Choice machine with the reconciler's
// StepsPerReconcile set to steps, and returns how many Execution status writes each reconcile
// made (by controller-runtime's reconcile ID), and how many of them failed.
func statusWritesPerReconcile(t *testing.T, steps int) (perReconcile map[types.UID]int, failed int) {
	ctx, ns := setup(t)
	var mu sync.Mutex
	perReconcile = map[types.UID]int{}
	startManagerWith(t, ns, nil, func(er *controllers.ExecutionReconciler) {
		er.StepsPerReconcile = steps
		er.Client = statusPatches{Client: er.Client, seen: func(ctx context.Context, err error) {
			mu.Lock()
			defer mu.Unlock()
			perReconcile[controller.ReconcileIDFromContext(ctx)]++
			if err != nil {
				failed++
			}
		}}
	})
	create(ctx, t, makeStateMachine(ns, "m", testenv.PassChoiceMachine(12)).obj(), makeExecution(ns, "e").stateMachine("m").input(`{"id":7}`).obj())
	if got := waitPhase(ctx, t, ns, "e", kstatesv1alpha1.ExecutionSucceeded); !jsonEq(got.Status.Output, `{"i":10,"id":7}`) {
		t.Errorf("output %s", got.Status.Output)
	}
	mu.Lock()
	defer mu.Unlock()
	return perReconcile, failed
}

// statusPatches reports every status patch its client makes, with the request's context.
type statusPatches struct {
	client.Client
	seen func(context.Context, error)
}

func (c statusPatches) Status() client.SubResourceWriter {
	return statusPatchWriter{SubResourceWriter: c.Client.Status(), seen: c.seen}
}

type statusPatchWriter struct {
	client.SubResourceWriter
	seen func(context.Context, error)
}

func (w statusPatchWriter) Patch(ctx context.Context, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
	err := w.SubResourceWriter.Patch(ctx, obj, p, opts...)
	w.seen(ctx, err)
	return err
}

// By default a reconcile advances an execution by one state: one status write each.
func TestOneStatePerReconcile(t *testing.T) {
	perReconcile, failed := statusWritesPerReconcile(t, 1)
	if len(perReconcile) < 12 || failed > 0 {
		t.Errorf("%d reconciles wrote the status (%d writes failed), want one for each of the 12 states at least", len(perReconcile), failed)
	}
	for id, n := range perReconcile {
		if n != 1 {
			t.Errorf("reconcile %s wrote the status %d times, want once", id, n)
		}
	}
}

// With StepsPerReconcile above 1 a reconcile goes on from its own write while the next state
// is ready (the manager's --steps-per-reconcile), still one write per transition; the watch
// events of its intermediate writes find versions it replaced and write nothing, so no write
// conflicts.
func TestSeveralStatesPerReconcile(t *testing.T) {
	perReconcile, failed := statusWritesPerReconcile(t, 10)
	most := 0
	for _, n := range perReconcile {
		most = max(most, n)
		if n > 10 {
			t.Errorf("a reconcile wrote the status %d times, more than StepsPerReconcile (10)", n)
		}
	}
	if most < 2 {
		t.Errorf("no reconcile committed more than one transition (writes per reconcile %v)", perReconcile)
	}
	if failed > 0 {
		t.Errorf("%d status writes failed (a step computed from a version the reconcile had replaced)", failed)
	}
}
