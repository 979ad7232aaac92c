package envtest

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func historyChunk(ns string) *kstatesv1alpha1.HistoryChunk {
	ts := metav1.NewMicroTime(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC))
	c := &kstatesv1alpha1.HistoryChunk{}
	c.Namespace, c.Name = ns, "run-history-00000"
	c.Spec = kstatesv1alpha1.HistoryChunkSpec{
		ExecutionName: "run", Sequence: 0, FirstEventID: 1, LastEventID: 2,
		Events: []kstatesv1alpha1.HistoryEvent{
			{ID: 1, Timestamp: ts, Type: "ExecutionStarted", Details: jsonOf(`{"input": "{}"}`)},
			{ID: 2, PreviousEventID: 1, Timestamp: ts, Type: "PassStateEntered", StateName: "A", Details: jsonOf(`{"input": "{}"}`)},
		},
	}
	return c
}

func payload(ns string) *kstatesv1alpha1.Payload {
	p := &kstatesv1alpha1.Payload{}
	p.Namespace, p.Name = ns, "run-output"
	p.Spec = kstatesv1alpha1.PayloadSpec{ExecutionName: "run", Purpose: kstatesv1alpha1.PayloadOutput, Data: `{"a":1}`, SHA256: sha(`{"a":1}`)}
	return p
}

func revision(ns string) *kstatesv1alpha1.StateMachineRevision {
	def := `{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`
	r := &kstatesv1alpha1.StateMachineRevision{}
	r.Namespace, r.Name = ns, "order-"+sha(def)[:10]
	r.Spec = kstatesv1alpha1.StateMachineRevisionSpec{
		StateMachineName: "order", Sequence: 1, Hash: sha(def), Definition: def, Type: kstatesv1alpha1.StateMachineTypeStandard,
		Bindings: []kstatesv1alpha1.TaskBinding{{Resource: "r", Container: kstatesv1alpha1.TaskContainer{Image: "img:1"}}},
	}
	return r
}

// The objects sealed beside an Execution cannot be changed once written: a restarted
// controller can trust what it finds.
func TestSealedObjectsAreImmutable(t *testing.T) {
	cases := []struct {
		reason string
		obj    func(ns string) client.Object
		change func(client.Object)
		field  string
		msg    string
	}{
		{
			reason: "an event's details in a sealed history chunk cannot be rewritten",
			obj:    func(ns string) client.Object { return historyChunk(ns) },
			change: func(o client.Object) {
				o.(*kstatesv1alpha1.HistoryChunk).Spec.Events[1].Details = jsonOf(`{"input": "{\"forged\": true}"}`)
			},
			field: "spec", msg: "a HistoryChunk is immutable",
		},
		{
			reason: "events cannot be dropped from a sealed history chunk",
			obj:    func(ns string) client.Object { return historyChunk(ns) },
			change: func(o client.Object) {
				c := o.(*kstatesv1alpha1.HistoryChunk)
				c.Spec.Events, c.Spec.LastEventID = c.Spec.Events[:1], 1
			},
			field: "spec", msg: "a HistoryChunk is immutable",
		},
		{
			reason: "a payload's data cannot be replaced",
			obj:    func(ns string) client.Object { return payload(ns) },
			change: func(o client.Object) {
				p := o.(*kstatesv1alpha1.Payload)
				p.Spec.Data, p.Spec.SHA256 = `{"a":2}`, sha(`{"a":2}`)
			},
			field: "spec", msg: "a Payload is immutable",
		},
		{
			reason: "a revision's bindings cannot be edited",
			obj:    func(ns string) client.Object { return revision(ns) },
			change: func(o client.Object) {
				o.(*kstatesv1alpha1.StateMachineRevision).Spec.Bindings[0].Container.Image = "img:2"
			},
			field: "spec", msg: "a StateMachineRevision is immutable",
		},
		{
			reason: "a revision can gain an owner (a running execution) without changing its spec",
			obj:    func(ns string) client.Object { return revision(ns) },
			change: func(o client.Object) {
				o.SetOwnerReferences(append(o.GetOwnerReferences(), metav1.OwnerReference{
					APIVersion: "kstates.io/v1alpha1", Kind: "Execution", Name: "run", UID: "6f2c1c8e-0000-4000-8000-000000000001"}))
			},
		},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			ctx, ns := setup(t)
			o := c.obj(ns)
			if err := k8sClient.Create(ctx, o); err != nil {
				t.Fatalf("create: %v", err)
			}
			c.change(o)
			err := k8sClient.Update(ctx, o)
			if c.field == "" {
				if err != nil {
					t.Fatalf("update rejected: %v", err)
				}
				return
			}
			wantInvalid(t, err, c.field, c.msg)
		})
	}
}

func TestHistoryChunkRoundTripsEventsInOrder(t *testing.T) {
	ctx, ns := setup(t)
	c := historyChunk(ns)
	if err := k8sClient.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	got := &kstatesv1alpha1.HistoryChunk{}
	if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(c), got); err != nil {
		t.Fatal(err)
	}
	if len(got.Spec.Events) != 2 {
		t.Fatalf("got %d events", len(got.Spec.Events))
	}
	for i, e := range got.Spec.Events {
		w := c.Spec.Events[i]
		if e.ID != w.ID || e.PreviousEventID != w.PreviousEventID || e.Type != w.Type || e.StateName != w.StateName ||
			!e.Timestamp.Equal(&w.Timestamp) || !jsonEqual(t, e.Details.Raw, w.Details.Raw) {
			t.Errorf("event %d: got %+v, want %+v", i, e, w)
		}
	}
}

func TestHistoryChunkRejectsABackwardsRange(t *testing.T) {
	ctx, ns := setup(t)
	c := historyChunk(ns)
	c.Spec.FirstEventID, c.Spec.LastEventID = 5, 2
	wantInvalid(t, k8sClient.Create(ctx, c), "spec", "lastEventId must not be before firstEventId")
}
