package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/podtask"
)

// Attempts that Kubernetes ends, child executions and heartbeats, through the controller on
// the real cluster (a kubelet, containerd, the scheduler, the OOM killer).

// TestPodFailuresOnCluster: a pod deleted mid-run is kstates.PodDeleted (caught, and not run
// again), a container over its memory limit is kstates.OOMKilled, an image that is not on the
// node with pull policy Never is kstates.ImagePullFailed; none hangs.
func TestPodFailuresOnCluster(t *testing.T) {
	t.Parallel()
	e := opCluster(t, 4*time.Minute)
	e.startManager()
	e.machine("deleted", `{"StartAt":"Slow","States":{"Slow":{"Type":"Task","Resource":"kstates:pod","Parameters":`+testtaskParams("sleep", `{"seconds":300}`)+`,
		"Catch":[{"ErrorEquals":["kstates.PodDeleted"],"ResultPath":"$.error","Next":"Caught"}],"End":true},
		"Caught":{"Type":"Pass","End":true}}}`)
	e.machine("oom", `{"StartAt":"Hog","States":{"Hog":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":"`+image("testtask")+`",
		"ImagePullPolicy":"Never","Args":["oom"],"Input":{"mib":512},"Resources":{"Requests":{"memory":"32Mi"},"Limits":{"memory":"32Mi"}}},"End":true}}}`)
	e.machine("nopull", `{"StartAt":"Missing","States":{"Missing":{"Type":"Task","Resource":"kstates:pod",
		"Parameters":{"Image":"kstates.local/no-such-image:none","ImagePullPolicy":"Never"},"End":true}}}`)
	deleted := e.execute("deleted-1", "deleted", `{"n":1}`)
	e.execute("oom-1", "oom", `{}`)
	e.execute("nopull-1", "nopull", `{}`)

	// Delete the pod once its container runs.
	var pod corev1.Pod
	poll(e.ctx, t, "deleted-1's pod to run", func() bool {
		if e.c.Get(e.ctx, client.ObjectKeyFromObject(deleted), deleted) != nil || deleted.UID == "" {
			return false
		}
		pods := e.taskPods(deleted)
		if len(pods) == 1 && pods[0].Status.Phase == corev1.PodRunning {
			pod = pods[0]
			return true
		}
		return false
	})
	if err := e.cs.CoreV1().Pods(e.ns).Delete(e.ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	got := e.waitEnded("deleted-1")
	var out struct{ Error struct{ Error, Cause string } }
	if err := json.Unmarshal([]byte(e.output(got)), &out); err != nil || got.Status.Phase != kstatesv1alpha1.ExecutionSucceeded || out.Error.Error != podtask.ErrPodDeleted {
		t.Errorf("deleted-1: %s, output %s, error %s %s; want Succeeded with kstates.PodDeleted caught", got.Status.Phase, e.output(got), got.Status.Error, got.Status.Cause)
	}
	time.Sleep(2 * time.Second)
	for _, p := range e.taskPods(got) {
		if p.UID != pod.UID {
			t.Errorf("deleted-1: another pod %s (%s) runs the deleted attempt", p.Name, p.Status.Phase)
		}
	}

	oom := e.waitEnded("oom-1")
	if oom.Status.Phase != kstatesv1alpha1.ExecutionFailed || oom.Status.Error != podtask.ErrOOMKilled || !strings.Contains(oom.Status.Cause, "32Mi") {
		t.Errorf("oom-1: %s %s %q, want Failed with kstates.OOMKilled naming the 32Mi limit", oom.Status.Phase, oom.Status.Error, oom.Status.Cause)
	}
	nopull := e.waitEnded("nopull-1")
	if nopull.Status.Phase != kstatesv1alpha1.ExecutionFailed || nopull.Status.Error != podtask.ErrImagePullFailed || !strings.Contains(nopull.Status.Cause, "ErrImageNeverPull") {
		t.Errorf("nopull-1: %s %s %q, want Failed with kstates.ImagePullFailed (ErrImageNeverPull)", nopull.Status.Phase, nopull.Status.Error, nopull.Status.Cause)
	}
}

// TestChildExecutionOnCluster: a parent's startExecution.sync:2 task runs a child execution
// whose task pod runs on the kubelet, and gets the child's output as JSON.
func TestChildExecutionOnCluster(t *testing.T) {
	t.Parallel()
	e := opCluster(t, 3*time.Minute)
	e.startManager()
	e.machine("child", `{"StartAt":"Echo","States":{"Echo":{"Type":"Task","Resource":"kstates:pod","Parameters":`+testtaskParams("echo", `{"from":"child","n.$":"$.n"}`)+`,"End":true}}}`)
	e.machine("parent", `{"StartAt":"Run","States":{"Run":{"Type":"Task","Resource":"arn:aws:states:::states:startExecution.sync:2",
		"Parameters":{"StateMachineArn":"arn:aws:states:eu-west-1:123456789012:stateMachine:child","Input":{"n.$":"$.n"}},
		"ResultSelector":{"out.$":"$.Output","status.$":"$.Status","arn.$":"$.ExecutionArn"},"End":true}}}`)
	e.execute("parent-1", "parent", `{"n":42}`)
	got := e.waitEnded("parent-1")
	var out struct {
		Out struct {
			From string
			N    int
		}
		Status string
		Arn    string
	}
	if err := json.Unmarshal([]byte(e.output(got)), &out); err != nil || got.Status.Phase != kstatesv1alpha1.ExecutionSucceeded ||
		out.Out.From != "child" || out.Out.N != 42 || out.Status != "SUCCEEDED" || !strings.Contains(out.Arn, ":execution:child:") {
		t.Fatalf("parent-1: %s, output %s, error %s %s", got.Status.Phase, e.output(got), got.Status.Error, got.Status.Cause)
	}
}

// TestHeartbeatsOnCluster: a pod task with HeartbeatSeconds 8 that sends a heartbeat every
// second (internal/taskkit, with its service account allowed to create taskcallbacks) runs
// for 20 s and succeeds (the heartbeat time counts from the task's start, so it also covers
// the pod's scheduling and start on a busy node); one that sends none ends with States.HeartbeatTimeout and its pod is
// deleted.
func TestHeartbeatsOnCluster(t *testing.T) {
	t.Parallel()
	e := opCluster(t, 3*time.Minute)
	// What a task's service account needs to send heartbeats: create on taskcallbacks.
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "taskcallback-sender"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"kstates.io"}, Resources: []string{"taskcallbacks"}, Verbs: []string{"create"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "default-sends-heartbeats"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "default", Namespace: e.ns}}}
	if err := e.c.Create(e.ctx, role); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Create(e.ctx, binding); err != nil {
		t.Fatal(err)
	}
	e.startManager()
	e.machine("alive", `{"StartAt":"Beat","States":{"Beat":{"Type":"Task","Resource":"kstates:pod","Parameters":`+
		testtaskParams("heartbeat", `{"seconds":20,"every":1}`)+`,"HeartbeatSeconds":8,"End":true}}}`)
	e.machine("silent", `{"StartAt":"Quiet","States":{"Quiet":{"Type":"Task","Resource":"kstates:pod","Parameters":`+
		testtaskParams("sleep", `{"seconds":300}`)+`,"HeartbeatSeconds":3,"End":true}}}`)
	e.execute("alive-1", "alive", `{}`)
	silent := e.execute("silent-1", "silent", `{}`)

	alive := e.waitEnded("alive-1")
	if alive.Status.Phase != kstatesv1alpha1.ExecutionSucceeded || !sameJSON(e.output(alive), `{"seconds":20,"every":1}`) {
		t.Errorf("alive-1: %s, output %s, error %s %s; want Succeeded after 20 s of heartbeats", alive.Status.Phase, e.output(alive), alive.Status.Error, alive.Status.Cause)
	}
	if d := alive.Status.StopTime.Sub(alive.Status.StartTime.Time); d < 20*time.Second {
		t.Errorf("alive-1 ran %v, want at least the 20 s its task sent heartbeats for", d)
	}
	got := e.waitEnded("silent-1")
	if got.Status.Phase != kstatesv1alpha1.ExecutionFailed || got.Status.Error != "States.HeartbeatTimeout" {
		t.Errorf("silent-1: %s %s %s, want Failed with States.HeartbeatTimeout", got.Status.Phase, got.Status.Error, got.Status.Cause)
	}
	poll(e.ctx, t, "silent-1's pod to be deleted", func() bool {
		if e.c.Get(e.ctx, client.ObjectKeyFromObject(silent), silent) != nil {
			return false
		}
		for _, p := range e.taskPods(silent) {
			if p.DeletionTimestamp == nil {
				return false
			}
		}
		return true
	})
}
