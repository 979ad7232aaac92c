package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/podtask"
)

// testtaskParams is the Parameters of a kstates:pod or kstates:job.sync task that runs the
// testtask image in mode with the JSON input.
func testtaskParams(mode, input string) string {
	return fmt.Sprintf(`{"Image":%q,"ImagePullPolicy":"Never","Args":[%q],"Input":%s}`, image("testtask"), mode, input)
}

// TestTaskTimeoutOnCluster: a pod that sleeps longer than the Task's TimeoutSeconds is timed
// out by the controller (TaskTimedOut, States.Timeout) and deleted; Retry on States.Timeout
// runs a second pod, which times out too, and Catch takes the execution on. Without Retry
// and Catch the execution fails with States.Timeout.
func TestTaskTimeoutOnCluster(t *testing.T) {
	t.Parallel()
	e := opCluster(t, 4*time.Minute)
	pw := e.watchPods()
	e.startManager()
	slow := `"Type":"Task","Resource":"kstates:pod","Parameters":` + testtaskParams("sleep", `{"seconds":300}`) + `,"TimeoutSeconds":3`
	e.machine("caught", `{"StartAt":"Slow","States":{"Slow":{`+slow+`,
		"Retry":[{"ErrorEquals":["States.Timeout"],"MaxAttempts":1,"IntervalSeconds":1}],
		"Catch":[{"ErrorEquals":["States.Timeout"],"ResultPath":"$.error","Next":"TimedOut"}],"End":true},
		"TimedOut":{"Type":"Pass","End":true}}}`)
	e.machine("uncaught", `{"StartAt":"Slow","States":{"Slow":{`+slow+`,"End":true}}}`)
	e.execute("caught-1", "caught", `{"order":1}`)
	e.execute("uncaught-1", "uncaught", `{"order":2}`)

	caught := e.waitEnded("caught-1")
	if caught.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
		t.Fatalf("caught-1: %s %s %s, want Succeeded through the Catch", caught.Status.Phase, caught.Status.Error, caught.Status.Cause)
	}
	var out struct {
		Order int
		Error struct{ Error, Cause string }
	}
	if err := json.Unmarshal([]byte(e.output(caught)), &out); err != nil || out.Order != 1 || out.Error.Error != "States.Timeout" {
		t.Errorf("caught-1: output %s (%v), want the input with error States.Timeout", e.output(caught), err)
	}
	h := e.history(caught)
	timedOut := eventsOf(h, "TaskTimedOut")
	scheduled := eventsOf(h, "TaskScheduled")
	if len(timedOut) != 2 || len(scheduled) != 2 {
		t.Fatalf("caught-1: %d TaskScheduled and %d TaskTimedOut events, want 2 and 2 (one retry):\n%s", len(scheduled), len(timedOut), shape(h))
	}
	for i := range timedOut {
		ran := timedOut[i].Timestamp.Sub(scheduled[i].Timestamp.Time)
		if ran < 3*time.Second || ran >= 300*time.Second {
			t.Errorf("caught-1: attempt %d timed out %v after it was scheduled, want TimeoutSeconds (3s) or a little more", i, ran)
		}
		if d := e.details(timedOut[i]); !strings.Contains(d, `"error":"States.Timeout"`) {
			t.Errorf("caught-1: TaskTimedOut details %s", d)
		}
	}
	if got := eventsOf(h, "PassStateEntered"); len(got) != 1 || got[0].StateName != "TimedOut" {
		t.Errorf("caught-1: the Catch did not enter TimedOut:\n%s", shape(h))
	}
	e.waitPodsGone(pw, caught, 2)

	uncaught := e.waitEnded("uncaught-1")
	if uncaught.Status.Phase != kstatesv1alpha1.ExecutionFailed || uncaught.Status.Error != "States.Timeout" {
		t.Errorf("uncaught-1: %s %s %s, want Failed with States.Timeout", uncaught.Status.Phase, uncaught.Status.Error, uncaught.Status.Cause)
	}
	if n := len(eventsOf(e.history(uncaught), "TaskTimedOut")); n != 1 {
		t.Errorf("uncaught-1: %d TaskTimedOut events, want 1", n)
	}
	e.waitPodsGone(pw, uncaught, 1)
}

// waitPodsGone checks that the execution ran n task pods, one per attempt (attempts 0 to
// n-1), and waits until the controller has deleted them all while their containers still ran
// (they sleep for minutes): timed-out pods are deleted.
func (e *opEnv) waitPodsGone(pw *podWatch, ex *kstatesv1alpha1.Execution, n int) {
	e.t.Helper()
	poll(e.ctx, e.t, fmt.Sprintf("the %d timed-out pods of %s to be deleted", n, ex.Name), func() bool {
		recs := pw.of(ex)
		if len(recs) != n {
			return false
		}
		for _, rs := range recs {
			if rs[0].phaseAtDelete == "" {
				return false
			}
		}
		return true
	})
	attempts := map[string]bool{}
	for name, rs := range pw.of(ex) {
		if len(rs) != 1 {
			e.t.Errorf("%s: pod %s was created %d times", ex.Name, name, len(rs))
		}
		attempts[rs[0].attempt] = true
		if rs[0].terminatedAtDelete {
			e.t.Errorf("%s: timed-out pod %s ended (exit %d) before it was deleted", ex.Name, name, rs[0].exitCode)
		}
	}
	for i := 0; i < n; i++ {
		if !attempts[fmt.Sprint(i)] {
			e.t.Errorf("%s: no pod of attempt %d; attempts %v", ex.Name, i, attempts)
		}
	}
}

// TestJobTaskOnCluster: kstates:job.sync runs a batch/v1 Job on the cluster's job controller
// and waits for it. A Job whose pod succeeds gives the pod's output; a pod's named error
// fails the task with that error; an exit without one is States.TaskFailed naming the Job's
// failure reason. One Job per task, with one pod (backoffLimit 0).
func TestJobTaskOnCluster(t *testing.T) {
	t.Parallel()
	e := opCluster(t, 4*time.Minute)
	e.startManager()
	e.machine("job", `{"StartAt":"Job","States":{"Job":{"Type":"Task","Resource":"kstates:job.sync",
		"Parameters":{"Image":"`+image("testtask")+`","ImagePullPolicy":"Never","Args.$":"$.args","Input.$":"$.input"},"End":true}}}`)
	cases := []struct {
		name, input            string
		phase                  kstatesv1alpha1.ExecutionPhase
		output, error, inCause string
		jobCondition           batchv1.JobConditionType
		podPhase               corev1.PodPhase
	}{
		{name: "succeeds", input: `{"args":["echo"],"input":{"n":1,"s":"x"}}`, phase: kstatesv1alpha1.ExecutionSucceeded,
			output: `{"n":1,"s":"x"}`, jobCondition: batchv1.JobComplete, podPhase: corev1.PodSucceeded},
		{name: "named-error", input: `{"args":["fail"],"input":{"error":"JobBroke","cause":"it broke"}}`, phase: kstatesv1alpha1.ExecutionFailed,
			error: "JobBroke", inCause: "it broke", jobCondition: batchv1.JobFailed, podPhase: corev1.PodFailed},
		{name: "exit", input: `{"args":["exit"],"input":{"code":4}}`, phase: kstatesv1alpha1.ExecutionFailed,
			error: "States.TaskFailed", inCause: "BackoffLimitExceeded", jobCondition: batchv1.JobFailed, podPhase: corev1.PodFailed},
	}
	for _, c := range cases {
		e.execute(c.name, "job", c.input)
	}
	for _, c := range cases {
		ex := e.waitEnded(c.name)
		st := ex.Status
		if st.Phase != c.phase || st.Error != c.error || !strings.Contains(st.Cause, c.inCause) {
			t.Errorf("%s: %s %q %q, want %s %q with a cause containing %q", c.name, st.Phase, st.Error, st.Cause, c.phase, c.error, c.inCause)
		}
		if c.output != "" && !sameJSON(e.output(ex), c.output) {
			t.Errorf("%s: output %s, want %s", c.name, e.output(ex), c.output)
		}
		jobs, err := e.cs.BatchV1().Jobs(e.ns).List(e.ctx, metav1.ListOptions{LabelSelector: kstatesv1alpha1.LabelExecutionUID + "=" + string(ex.UID)})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs.Items) != 1 {
			t.Errorf("%s: %d Jobs, want 1", c.name, len(jobs.Items))
			continue
		}
		job := &jobs.Items[0]
		if !metav1.IsControlledBy(job, ex) {
			t.Errorf("%s: Job %s is not controlled by the execution: %+v", c.name, job.Name, job.OwnerReferences)
		}
		if !jobHas(job, c.jobCondition) {
			t.Errorf("%s: Job %s has conditions %+v, want %s", c.name, job.Name, job.Status.Conditions, c.jobCondition)
		}
		pods, err := e.cs.CoreV1().Pods(e.ns).List(e.ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job.Name})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 1 || pods.Items[0].Status.Phase != c.podPhase {
			t.Errorf("%s: Job %s has %d pods (%v), want one %s", c.name, job.Name, len(pods.Items), podPhases(pods.Items), c.podPhase)
		}
		// The Job's pods are not task pods: the execution has none.
		if n := len(e.taskPods(ex)); n != 0 {
			t.Errorf("%s: %d pods labelled as the execution's task pods, want 0 (the Job's pods are the Job's)", c.name, n)
		}
		h := e.history(ex)
		if n := len(eventsOf(h, "TaskScheduled")); n != 1 {
			t.Errorf("%s: %d TaskScheduled events, want 1:\n%s", c.name, n, shape(h))
		}
	}
}

func jobHas(job *batchv1.Job, typ batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == typ && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func podPhases(pods []corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name+"="+string(p.Status.Phase))
	}
	return out
}

// TestLargeOutputThroughController: a task printing a 200 KiB output on stdout (too large for
// the termination message) completes through the controller, and the execution's output, as
// a client reads it (status.outputRef's Payload), is the pod's output byte for byte; so is
// the TaskSucceeded event's output (its details are in a Payload too).
func TestLargeOutputThroughController(t *testing.T) {
	t.Parallel()
	e := opCluster(t, 3*time.Minute)
	e.startManager()
	const size = 200 * 1024
	e.machine("big", `{"StartAt":"Big","States":{"Big":{"Type":"Task","Resource":"kstates:pod","Parameters":`+
		testtaskParams("output", fmt.Sprintf(`{"bytes":%d}`, size))+`,"End":true}}}`)
	e.execute("big-1", "big", `{}`)
	ex := e.waitEnded("big-1")
	if ex.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
		t.Fatalf("big-1: %s %s %s", ex.Status.Phase, ex.Status.Error, ex.Status.Cause)
	}
	// testtask's output, byte for byte: what the pod printed as its last log line.
	podOut := `{"data":"` + strings.Repeat("x", size-len(`{"data":""}`)) + `"}`
	// The pod's log too: an ended task pod is kept (for its logs) until the Execution is
	// deleted.
	pods := e.taskPods(ex)
	if len(pods) != 1 || !pods[0].DeletionTimestamp.IsZero() {
		t.Fatalf("big-1: %d task pods (deleting: %v), want the one ended pod kept", len(pods), len(pods) == 1 && !pods[0].DeletionTimestamp.IsZero())
	}
	if msg := terminated(t, &pods[0]).Message; msg != "" {
		t.Errorf("the pod's termination message has %d bytes, want none (the output is on stdout)", len(msg))
	}
	if logged, ok := lastLogLine(t, e, pods[0].Name); !ok || logged != podOut {
		t.Fatalf("the pod's last log line has %d bytes (%.40q, read: %v), want %d", len(logged), logged, ok, size)
	}
	if ex.Status.OutputRef == nil || ex.Status.Output != "" {
		t.Errorf("big-1: output inline (%d bytes), ref %+v; want it in a Payload", len(ex.Status.Output), ex.Status.OutputRef)
	}
	if got := e.output(ex); got != podOut {
		t.Errorf("big-1: the execution's output (%d bytes, %.40q) differs from the pod's (%d bytes)", len(got), got, len(podOut))
	}
	h := e.history(ex)
	succ := eventsOf(h, "TaskSucceeded")
	if len(succ) != 1 || succ[0].DetailsRef == nil {
		t.Fatalf("big-1: TaskSucceeded events %+v, want one with its details in a Payload", succ)
	}
	var d struct{ Output string }
	if err := json.Unmarshal([]byte(e.details(succ[0])), &d); err != nil {
		t.Fatalf("TaskSucceeded details: %v", err)
	}
	if d.Output != podOut {
		t.Errorf("the TaskSucceeded event's output (%d bytes) differs from the pod's (%d bytes)", len(d.Output), len(podOut))
	}
}

// lastLogLine reads a task pod's whole log and returns its last line; false when the pod or
// its log is gone.
func lastLogLine(t *testing.T, e *opEnv, pod string) (string, bool) {
	t.Helper()
	rc, err := e.cs.CoreV1().Pods(e.ns).GetLogs(pod, &corev1.PodLogOptions{Container: podtask.ContainerName}).Stream(e.ctx)
	if apierrors.IsNotFound(err) || apierrors.IsBadRequest(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	last := ""
	for sc.Scan() {
		last = sc.Text()
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the log of %s: %v", pod, err)
	}
	return last, true
}
