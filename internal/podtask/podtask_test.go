package podtask

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine/value"
)

func task(resource, input string) *Task {
	v, err := value.ParseString(input)
	if err != nil {
		panic(err)
	}
	return &Task{
		Namespace: "ns", ExecutionName: "e", ExecutionUID: "uid", ObjectPrefix: "e-12345",
		State: "Charge Card", Resource: resource, Input: v,
		Revision: &kstatesv1alpha1.StateMachineRevisionSpec{Bindings: []kstatesv1alpha1.TaskBinding{
			{Resource: "arn:aws:lambda:x", Container: kstatesv1alpha1.TaskContainer{Image: "bound:1", Args: []string{"--a"}}},
		}},
	}
}

func TestBuild(t *testing.T) {
	cases := []struct {
		reason    string
		task      *Task
		wantImage string
		wantInput string
		wantErr   string
	}{
		{"a kstates:pod input names the image and what the container receives",
			task(ResourcePod, `{"Image":"img:1","Command":["sh"],"Env":{"A":"b","N":1},"Resources":{"Limits":{"cpu":"500m"}},"Input":{"x":1}}`),
			"img:1", `{"x":1}`, ""},
		{"without Input the container receives the whole effective input",
			task(ResourcePod, `{"Image":"img:1","other":true}`), "img:1", `{"Image":"img:1","other":true}`, ""},
		{"a bound resource runs its binding's container with the whole input",
			task("arn:aws:lambda:x", `{"amount":5}`), "bound:1", `{"amount":5}`, ""},
		{"an input that is not an object is an error", task(ResourcePod, `"img"`), "", "", "must be an object with an Image"},
		{"a missing Image is an error naming it", task(ResourcePod, `{"Command":["x"]}`), "", "", "Image must be a non-empty string"},
		{"a non-string argument is an error naming its index", task(ResourcePod, `{"Image":"i","Args":["a",2]}`), "", "", "Args[1] must be a string"},
		{"a bad quantity is an error naming it", task(ResourcePod, `{"Image":"i","Resources":{"Requests":{"cpu":"lots"}}}`), "", "", "Resources.Requests.cpu"},
		{"a typo beside Input is an error", task(ResourcePod, `{"Image":"i","Imput":1,"Input":{}}`), "", "", "unknown field(s) Imput"},
		{"an unbound resource is an error saying so", task("arn:aws:lambda:y", `{}`), "", "", `no binding for Resource "arn:aws:lambda:y"`},
	}
	for _, c := range cases {
		pod, err := Build(c.task)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("%s: error %v, want %q", c.reason, err, c.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.reason, err)
			continue
		}
		ctr := pod.Spec.Containers[0]
		if ctr.Image != c.wantImage || pod.Annotations[InputAnnotation] != c.wantInput {
			t.Errorf("%s: image %q input %q, want %q %q", c.reason, ctr.Image, pod.Annotations[InputAnnotation], c.wantImage, c.wantInput)
		}
		if ctr.TerminationMessagePath != TerminationMessagePath || ctr.TerminationMessagePolicy != corev1.TerminationMessageReadFile ||
			pod.Spec.RestartPolicy != corev1.RestartPolicyNever || pod.Labels[kstatesv1alpha1.LabelExecutionUID] != "uid" {
			t.Errorf("%s: pod settings %+v", c.reason, pod)
		}
	}
}

func TestPodNameIsDeterministicAndDistinct(t *testing.T) {
	a := PodName("e-12345", "Charge Card", "", 2, 0)
	if a != PodName("e-12345", "Charge Card", "", 2, 0) {
		t.Fatal("same task, different names")
	}
	if !strings.HasPrefix(a, "e-12345-charge-card-") || !strings.HasSuffix(a, "-0") {
		t.Errorf("name %q", a)
	}
	seen := map[string]bool{a: true}
	for _, n := range []string{PodName("e-12345", "Charge Card", "", 2, 1), PodName("e-12345", "Charge Card", "/0.1", 2, 0),
		PodName("e-12345", "Charge_Card", "", 2, 0), PodName("e-12345", "Charge Card", "", 9, 0)} {
		if seen[n] {
			t.Errorf("name %q collides", n)
		}
		seen[n] = true
	}
	long := PodName(strings.Repeat("x", 206), strings.Repeat("S", 80), "", 123456, 12)
	if len(long) > 253 {
		t.Errorf("name of %d characters", len(long))
	}
}

func TestFinished(t *testing.T) {
	term := func(code int32, msg string) *corev1.Pod {
		return &corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Message: msg}},
		}}}}
	}
	cases := []struct {
		reason              string
		pod                 *corev1.Pod
		running             bool
		wantOutput, wantErr string
		wantCause           string
	}{
		{"a running pod has no result", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning}}, true, "", "", ""},
		{"exit 0 with JSON is the output", term(0, ` {"ok":true} `), false, `{"ok":true}`, "", ""},
		{"exit 0 with nothing is {} until stdout is read", term(0, ""), false, `{}`, "", ""},
		{"exit 0 with text that is not JSON fails", term(0, "done"), false, "", ErrTaskFailed, "is not JSON"},
		{"a named error is raised with its cause", term(1, `{"Error":"PaymentFailed","Cause":"declined"}`), false, "", "PaymentFailed", "declined"},
		{"another non-zero exit is States.TaskFailed", term(2, "boom"), false, "", ErrTaskFailed, "exited with code 2: boom"},
		{"a running pod whose image pull backs off has no result yet",
			&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: ContainerName,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff"}}}}}}, true, "", "", ""},
		{"an invalid image name ends the attempt with kstates.ImagePullFailed",
			&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: ContainerName,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "InvalidImageName", Message: "bad ref"}}}}}}, false, "", ErrImagePullFailed, "InvalidImageName: bad ref"},
		{"an evicted pod is kstates.PodEvicted with the kubelet's message",
			&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "low memory", ContainerStatuses: []corev1.ContainerStatus{{
				Name: ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}}}}}, false, "", ErrPodEvicted, "evicted: low memory"},
		{"an OOM kill is kstates.OOMKilled, whatever the message",
			&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{
				Name: ContainerName, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Reason: "OOMKilled"}}}}}}, false, "", ErrOOMKilled, "more memory than allowed"},
	}
	for _, c := range cases {
		r := Finished(c.pod)
		if c.running {
			if r != nil {
				t.Errorf("%s: got %+v", c.reason, r)
			}
			continue
		}
		if r == nil {
			t.Errorf("%s: no result", c.reason)
			continue
		}
		if r.Error != c.wantErr || !strings.Contains(r.Cause, c.wantCause) || (c.wantOutput != "" && value.MarshalString(r.Output) != c.wantOutput) {
			t.Errorf("%s: got %+v", c.reason, r)
		}
	}
}

// The revision's service account and pod defaults apply; the operator's own labels and
// annotations win over them; default resources apply only to containers that set none.
func TestBuildAppliesTaskDefaults(t *testing.T) {
	tk := task(ResourcePod, `{"Image":"i"}`)
	limits := corev1.ResourceList{corev1.ResourceCPU: resourceQuantity("1")}
	tk.Revision.ServiceAccountName = "tasks"
	tk.Revision.TaskDefaults = &kstatesv1alpha1.TaskPodDefaults{
		Labels:       map[string]string{"team": "a", TaskLabel: "false"},
		NodeSelector: map[string]string{"pool": "batch"},
		Resources:    &corev1.ResourceRequirements{Limits: limits},
	}
	pod, err := Build(tk)
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "tasks" || pod.Labels["team"] != "a" || pod.Labels[TaskLabel] != "true" ||
		pod.Spec.NodeSelector["pool"] != "batch" || !pod.Spec.Containers[0].Resources.Limits.Cpu().Equal(limits[corev1.ResourceCPU]) {
		t.Errorf("pod %+v", pod)
	}
	tk = task(ResourcePod, `{"Image":"i","Resources":{"Limits":{"memory":"64Mi"}}}`)
	tk.Revision.TaskDefaults = &kstatesv1alpha1.TaskPodDefaults{Resources: &corev1.ResourceRequirements{Limits: limits}}
	if pod, err = Build(tk); err != nil || pod.Spec.Containers[0].Resources.Limits.Cpu().Value() != 0 {
		t.Errorf("the default resources replaced the task's own: %+v %v", pod.Spec.Containers[0].Resources, err)
	}
}

func resourceQuantity(s string) resource.Quantity { return resource.MustParse(s) }

func TestOutputFromLog(t *testing.T) {
	cases := []struct{ reason, log, want string }{
		{"the last line is the output", "starting\n{\"n\":1}\n", `{"n":1}`},
		{"an empty log is {}", "", `{}`},
		{"a last line that is not JSON is {}", "{\"n\":1}\ndone\n", `{}`},
		{"CRLF line ends are fine", "9007199254740993\r\n", `9007199254740993`},
	}
	for _, c := range cases {
		if got := value.MarshalString(OutputFromLog(c.log)); got != c.want {
			t.Errorf("%s: %s, want %s", c.reason, got, c.want)
		}
	}
}

func TestTaskToken(t *testing.T) {
	tok := NewTaskToken("ns-1", "exec.a")
	ns, name, ok := ParseTaskToken(tok)
	if !ok || ns != "ns-1" || name != "exec.a" {
		t.Fatalf("ParseTaskToken(%q) = %q, %q, %v", tok, ns, name, ok)
	}
	if tok == NewTaskToken("ns-1", "exec.a") {
		t.Fatal("two tokens are equal")
	}
	if !TokensEqual(tok, tok) || TokensEqual(tok, tok+"x") {
		t.Fatal("TokensEqual")
	}
	for _, bad := range []string{"", "not a token", "bnMvZXhlYw", tok[:len(tok)-2]} {
		if _, _, ok := ParseTaskToken(bad); ok {
			t.Errorf("ParseTaskToken(%q) accepted", bad)
		}
	}
}

func TestBuildJob(t *testing.T) {
	job, err := BuildJob(&Task{Namespace: "ns", ExecutionUID: "uid", ObjectPrefix: "e-1", State: "J", Resource: ResourceJobSync,
		Input: map[string]any{"Image": "busybox", "BackoffLimit": int64(2)}, Revision: &kstatesv1alpha1.StateMachineRevisionSpec{}})
	if err != nil {
		t.Fatal(err)
	}
	if *job.Spec.BackoffLimit != 2 || job.Labels[kstatesv1alpha1.LabelExecutionUID] != "uid" ||
		job.Spec.Template.Labels[kstatesv1alpha1.LabelExecutionUID] != "" || job.Spec.Template.Spec.Containers[0].Image != "busybox" ||
		job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Fatalf("job %+v", job)
	}
	if _, err := BuildJob(&Task{Resource: ResourceJob, Input: map[string]any{"Image": "x", "BackoffLimit": "2"},
		Revision: &kstatesv1alpha1.StateMachineRevisionSpec{}}); err == nil {
		t.Fatal("a string BackoffLimit was accepted")
	}
}

func TestBuildJobFromBinding(t *testing.T) {
	two := int32(2)
	rev := &kstatesv1alpha1.StateMachineRevisionSpec{Bindings: []kstatesv1alpha1.TaskBinding{
		{Resource: "r.sync", Container: kstatesv1alpha1.TaskContainer{Image: "img"}, Job: &kstatesv1alpha1.TaskBindingJob{BackoffLimit: &two}},
		{Resource: "p", Container: kstatesv1alpha1.TaskContainer{Image: "img"}}}}
	if !IsJobTask("r.sync", rev) || IsJobTask("p", rev) || !IsJobTask(ResourceJob, nil) || IsJobTask(ResourcePod, rev) {
		t.Fatal("IsJobTask")
	}
	job, err := BuildJob(&Task{Namespace: "ns", ObjectPrefix: "e-1", State: "S", Resource: "r.sync", Input: map[string]any{"BackoffLimit": "not ours"}, Revision: rev})
	if err != nil || *job.Spec.BackoffLimit != 2 || job.Spec.Template.Spec.Containers[0].Image != "img" {
		t.Fatalf("BuildJob: %v %+v", err, job)
	}
}

func TestStuck(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	policy := StuckPolicy{ImagePullTimeout: time.Minute, UnschedulableTimeout: 5 * time.Minute}
	waiting := func(reason string) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: ContainerName, Image: "img:1"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{Name: ContainerName,
				State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "msg"}}}}}}
		p.Name, p.CreationTimestamp = "p", metav1.NewTime(created)
		return p
	}
	unschedulable := func() *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: ContainerName, Image: "img:1"}}},
			Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled,
				Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/1 nodes are available", LastTransitionTime: metav1.NewTime(created.Add(time.Minute))}}}}
		p.Name, p.CreationTimestamp = "p", metav1.NewTime(created)
		return p
	}
	cases := []struct {
		reason   string
		pod      *corev1.Pod
		now      time.Time
		wantErr  string
		wantWait time.Duration
	}{
		{"a pull that is never allowed fails at once", waiting("ErrImageNeverPull"), created, ErrImagePullFailed, 0},
		{"a failing pull waits until the timeout after the pod's creation", waiting("ImagePullBackOff"), created.Add(20 * time.Second), "", 40 * time.Second},
		{"a failing pull fails at the timeout", waiting("ErrImagePull"), created.Add(time.Minute), ErrImagePullFailed, 0},
		{"a container creating is not stuck", waiting("ContainerCreating"), created.Add(time.Hour), "", 0},
		{"an unschedulable pod waits from its condition's transition", unschedulable(), created.Add(2 * time.Minute), "", 4 * time.Minute},
		{"an unschedulable pod fails after the timeout", unschedulable(), created.Add(6 * time.Minute), ErrUnschedulable, 0},
	}
	for _, c := range cases {
		r, wait := Stuck(c.pod, c.now, policy)
		got := ""
		if r != nil {
			got = r.Error
		}
		if got != c.wantErr || wait != c.wantWait {
			t.Errorf("%s: got %q and a wait of %s, want %q and %s", c.reason, got, wait, c.wantErr, c.wantWait)
		}
	}
}

func TestDeleted(t *testing.T) {
	p := &corev1.Pod{}
	p.Name = "p"
	if r := Deleted(p); r.Error != ErrPodDeleted {
		t.Errorf("a deleted pod: %+v", r)
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "EvictionByEvictionAPI"}}
	if r := Deleted(p); r.Error != ErrPodEvicted {
		t.Errorf("a pod deleted by the Eviction API: %+v", r)
	}
}
