package crash

import (
	"context"
	"errors"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// errCrashed is what every write of a manager that has "died" returns.
var errCrashed = errors.New("crash test: the manager process has died")

// crashPlan says when one life of the manager ends: right after its afterWrites-th write, or
// right after its afterPodCreates-th successful pod creation (a pod that exists while the
// Execution's status does not say that its task runs). Zero for both: it never crashes.
type crashPlan struct {
	afterWrites     int
	afterPodCreates int
}

func (p crashPlan) String() string {
	switch {
	case p.afterWrites > 0:
		return fmt.Sprintf("after write %d", p.afterWrites)
	case p.afterPodCreates > 0:
		return fmt.Sprintf("after pod creation %d", p.afterPodCreates)
	}
	return "never"
}

// podJournal counts the successful creations of each pod name over all lives of the manager.
type podJournal struct {
	mu      sync.Mutex
	created map[string]int
}

func (j *podJournal) add(name string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.created == nil {
		j.created = map[string]int{}
	}
	j.created[name]++
}

func (j *podJournal) snapshot() map[string]int {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make(map[string]int, len(j.created))
	for k, v := range j.created {
		out[k] = v
	}
	return out
}

// faultClient is the client both reconcilers of one manager life get. It performs each write
// and then, at the planned point, "kills the process": it calls crash (which cancels the
// manager's context), returns an error for that write, and refuses every later write of this
// life, so nothing this life decides afterwards reaches the API server. Reads pass through.
type faultClient struct {
	client.Client
	plan    crashPlan
	journal *podJournal
	crash   func(what string, write int)

	mu         sync.Mutex
	dead       bool
	writes     int
	podCreates int
}

// do runs one write under the plan.
func (c *faultClient) do(what string, podCreate func() string, write func() error) error {
	c.mu.Lock()
	dead := c.dead
	c.mu.Unlock()
	if dead {
		return errCrashed
	}
	err := write()
	created := ""
	if err == nil && podCreate != nil {
		created = podCreate()
		c.journal.add(created)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		// The process died while this request was in flight: its answer is lost.
		return errCrashed
	}
	c.writes++
	if created != "" {
		c.podCreates++
	}
	if (c.plan.afterWrites > 0 && c.writes >= c.plan.afterWrites) ||
		(c.plan.afterPodCreates > 0 && created != "" && c.podCreates >= c.plan.afterPodCreates) {
		c.dead = true
		if err != nil {
			what += " (which failed: " + err.Error() + ")"
		}
		c.crash(what, c.writes)
		return errCrashed
	}
	return err
}

func describe(verb string, obj client.Object) string {
	return fmt.Sprintf("%s %T %s", verb, obj, obj.GetName())
}

func (c *faultClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	var podCreate func() string
	if p, ok := obj.(*corev1.Pod); ok {
		podCreate = func() string { return p.Name }
	}
	return c.do(describe("create", obj), podCreate, func() error { return c.Client.Create(ctx, obj, opts...) })
}

func (c *faultClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return c.do(describe("update", obj), nil, func() error { return c.Client.Update(ctx, obj, opts...) })
}

func (c *faultClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.do(describe("patch", obj), nil, func() error { return c.Client.Patch(ctx, obj, patch, opts...) })
}

func (c *faultClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	return c.do(describe("delete", obj), nil, func() error { return c.Client.Delete(ctx, obj, opts...) })
}

func (c *faultClient) DeleteAllOf(ctx context.Context, obj client.Object, opts ...client.DeleteAllOfOption) error {
	return c.do(describe("delete all of", obj), nil, func() error { return c.Client.DeleteAllOf(ctx, obj, opts...) })
}

func (c *faultClient) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
	return c.do("apply", nil, func() error { return c.Client.Apply(ctx, obj, opts...) })
}

func (c *faultClient) Status() client.SubResourceWriter {
	return &faultStatus{c: c, w: c.Client.Status()}
}

// faultStatus puts status writes under the same plan.
type faultStatus struct {
	c *faultClient
	w client.SubResourceWriter
}

func (s *faultStatus) Create(ctx context.Context, obj client.Object, sub client.Object, opts ...client.SubResourceCreateOption) error {
	return s.c.do(describe("create status of", obj), nil, func() error { return s.w.Create(ctx, obj, sub, opts...) })
}

func (s *faultStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	return s.c.do(describe("update status of", obj), nil, func() error { return s.w.Update(ctx, obj, opts...) })
}

func (s *faultStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	return s.c.do(describe("patch status of", obj), nil, func() error { return s.w.Patch(ctx, obj, patch, opts...) })
}

func (s *faultStatus) Apply(ctx context.Context, obj runtime.ApplyConfiguration, opts ...client.SubResourceApplyOption) error {
	return s.c.do("apply status", nil, func() error { return s.w.Apply(ctx, obj, opts...) })
}
