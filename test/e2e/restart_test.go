package e2e

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// TestManagerRestartWhilePodsRun: the manager stops while the executions' task pods run and
// a new one takes over. Every execution ends as it would have, each task attempt ran in
// exactly one pod (one container run: restartPolicy Never, no restarts), and the histories
// have the shape of an execution that the new manager ran from start to end.
func TestManagerRestartWhilePodsRun(t *testing.T) {
	t.Parallel()
	e := opCluster(t, 5*time.Minute)
	pw := e.watchPods()
	stop := e.startManager()
	e.machine("two", `{"StartAt":"A","States":{
		"A":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"`+image("testtask")+`","ImagePullPolicy":"Never","Args":["sleep"],"Input.$":"$"},"ResultPath":"$.a","Next":"B"},
		"B":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"`+image("testtask")+`","ImagePullPolicy":"Never","Args":["sleep"],"Input.$":"$"},"ResultPath":"$.b","End":true}}}`)
	// Different run times, so that when the manager is down some pods still run and some
	// have ended unseen.
	const n = 4
	var execs []*kstatesv1alpha1.Execution
	for i := 0; i < n; i++ {
		execs = append(execs, e.execute(fmt.Sprintf("run-%d", i), "two", fmt.Sprintf(`{"seconds":%d,"i":%d}`, 2+2*i, i)))
	}
	// Stop the manager once every execution's first pod runs.
	poll(e.ctx, t, "every execution's first task pod to run", func() bool {
		for _, ex := range execs {
			if err := e.c.Get(e.ctx, client.ObjectKeyFromObject(ex), ex); err != nil || ex.UID == "" {
				return false
			}
			pods := e.taskPods(ex)
			if len(pods) != 1 || pods[0].Status.Phase != corev1.PodRunning {
				return false
			}
		}
		return true
	})
	stop()
	t.Log("manager stopped with every first task pod running")
	time.Sleep(3 * time.Second) // the 2 s pods end while no manager runs
	e.startManager()
	t.Log("a new manager started")
	e.execute("reference", "two", `{"seconds":2,"i":99}`)

	ref := e.waitEnded("reference")
	if ref.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
		t.Fatalf("reference: %s %s %s", ref.Status.Phase, ref.Status.Error, ref.Status.Cause)
	}
	want := shape(e.history(ref))
	for i, ex := range execs {
		ex = e.waitEnded(ex.Name)
		if ex.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
			t.Errorf("%s: %s %s %s", ex.Name, ex.Status.Phase, ex.Status.Error, ex.Status.Cause)
			continue
		}
		in := fmt.Sprintf(`{"i":%d,"seconds":%d}`, i, 2+2*i)
		wantOut := fmt.Sprintf(`{"a":%s,"b":{"a":%s,"i":%d,"seconds":%d},"i":%d,"seconds":%d}`, in, in, i, 2+2*i, i, 2+2*i)
		if !sameJSON(e.output(ex), wantOut) {
			t.Errorf("%s: output %s, want %s", ex.Name, e.output(ex), wantOut)
		}
		if got := shape(e.history(ex)); got != want {
			t.Errorf("%s: history\n%s\nwant (the uninterrupted run's)\n%s", ex.Name, got, want)
		}
		// Every pod the watch saw: one per task, each created once (one UID), its container
		// run once to exit 0.
		recs := pw.of(ex)
		states := map[string]int{}
		for name, rs := range recs {
			states[rs[0].state+"/"+rs[0].attempt]++
			if len(rs) != 1 {
				t.Errorf("%s: pod %s was created %d times", ex.Name, name, len(rs))
			}
			if rs[0].exitCode != 0 || rs[0].restarts != 0 {
				t.Errorf("%s: pod %s: exit code %d (-1: not seen ended), %d restarts; want one run to exit 0", ex.Name, name, rs[0].exitCode, rs[0].restarts)
			}
			if rs[0].phaseAtDelete != "" {
				// An ended pod is kept for its logs until the Execution is deleted.
				t.Errorf("%s: pod %s (container terminated: %v) was deleted in phase %s", ex.Name, name, rs[0].terminatedAtDelete, rs[0].phaseAtDelete)
			}
		}
		if len(recs) != 2 || states["A/0"] != 1 || states["B/0"] != 1 {
			t.Errorf("%s: %d task pods %v, want one for A and one for B (attempt 0)", ex.Name, len(recs), states)
		}
	}
}
