// Package e2e runs task pods on a real cluster (hack/cluster-up.sh; hack/e2e.sh runs it all):
// pods built by internal/podtask from locally assembled images (hack/images/build.sh), run by
// a real kubelet and containerd, read back through the termination message.
//
// The tests skip unless KSTATES_E2E_KUBECONFIG names the cluster's kubeconfig. The images
// must be in the node's containerd: kstates.local/order-tasks and kstates.local/testtask with
// tag $KSTATES_E2E_IMAGE_TAG (dev).
package e2e

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/engine/value"
	"github.com/kstates/kstates/internal/podtask"
)

const lambda = "arn:aws:lambda:eu-west-1:123456789012:function:"

// cluster connects to the e2e cluster and makes a namespace for the test, deleted at its end.
func cluster(t *testing.T) (kubernetes.Interface, string) {
	t.Helper()
	path := os.Getenv("KSTATES_E2E_KUBECONFIG")
	if path == "" {
		t.Skip("KSTATES_E2E_KUBECONFIG is not set: no cluster to run pods on (hack/e2e.sh brings one up and sets it)")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatalf("kubeconfig %s: %v", path, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ns := fmt.Sprintf("e2e-%s-%04x", slug(t.Name(), 40), rand.IntN(1<<16))
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
	t.Cleanup(func() {
		if t.Failed() && os.Getenv("KSTATES_E2E_KEEP") != "" {
			t.Logf("keeping namespace %s", ns)
			return
		}
		_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	// The API server refuses pods until the namespace's default ServiceAccount exists.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace %s has no default ServiceAccount after 30s (is kube-controller-manager running?)", ns)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cs, ns
}

// slug makes s a DNS label fragment of at most n characters.
func slug(s string, n int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if b.Len() >= n {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func image(name string) string {
	tag := os.Getenv("KSTATES_E2E_IMAGE_TAG")
	if tag == "" {
		tag = "dev"
	}
	return "kstates.local/" + name + ":" + tag
}

// orderBindings binds the order demo's Lambda ARNs to the order-tasks image, as a
// StateMachine's spec.bindings does.
func orderBindings() *kstatesv1alpha1.StateMachineRevisionSpec {
	rev := &kstatesv1alpha1.StateMachineRevisionSpec{}
	for fn, task := range map[string]string{
		"ValidateOrder": "validate-order", "CheckInventory": "check-inventory", "CheckFraud": "check-fraud",
		"ChargePayment": "charge-payment", "Refund": "refund", "NotifyCustomer": "notify", "SendConfirmation": "send-confirmation",
	} {
		rev.Bindings = append(rev.Bindings, kstatesv1alpha1.TaskBinding{
			Resource:  lambda + fn,
			Container: kstatesv1alpha1.TaskContainer{Image: image("order-tasks"), ImagePullPolicy: corev1.PullNever, Args: []string{task}},
		})
	}
	return rev
}

// runTask builds the task's pod with internal/podtask, creates it, and waits until it has
// ended (phase Succeeded or Failed). It returns the pod and how long that took from its
// creation, and logs when the container's terminated state first showed.
func runTask(t *testing.T, cs kubernetes.Interface, ns string, task *podtask.Task) (*corev1.Pod, time.Duration) {
	t.Helper()
	task.Namespace = ns
	if task.ExecutionName == "" {
		task.ExecutionName = "e2e"
		task.ExecutionUID = fmt.Sprintf("uid-%x", rand.Uint64())
		task.ExecutionID = "arn:kstates:states:local:000000000000:execution:" + ns + ":e2e"
		task.ObjectPrefix = "e2e"
		task.Thread = "0"
	}
	if task.Revision == nil {
		task.Revision = &kstatesv1alpha1.StateMachineRevisionSpec{}
	}
	pod, err := podtask.Build(task)
	if err != nil {
		t.Fatalf("podtask.Build: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	start := time.Now()
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating pod %s: %v", pod.Name, err)
	}
	w, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + pod.Name})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	var finished time.Duration // when the container's terminated state first showed (what the controller waits for)
	for ev := range w.ResultChan() {
		p, ok := ev.Object.(*corev1.Pod)
		if !ok {
			continue
		}
		if finished == 0 && podtask.Finished(p) != nil {
			finished = time.Since(start)
		}
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			took := time.Since(start)
			t.Logf("pod %s: created to container terminated in %v, to phase %s in %v", p.Name,
				finished.Round(time.Millisecond), p.Status.Phase, took.Round(time.Millisecond))
			return p, took
		}
	}
	p, _ := cs.CoreV1().Pods(ns).Get(context.Background(), pod.Name, metav1.GetOptions{})
	t.Fatalf("pod %s did not end within 2 minutes; status %+v", pod.Name, p.Status)
	return nil, 0
}

func input(t *testing.T, js string) any {
	t.Helper()
	v, err := value.ParseString(js)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func terminated(t *testing.T, p *corev1.Pod) *corev1.ContainerStateTerminated {
	t.Helper()
	for _, cs := range p.Status.ContainerStatuses {
		if cs.State.Terminated != nil {
			return cs.State.Terminated
		}
	}
	t.Fatalf("pod %s (%s) has no terminated container: %+v", p.Name, p.Status.Phase, p.Status)
	return nil
}

// TestOrderTaskSucceeds: a Lambda ARN bound to the order-tasks image runs as a pod and its
// output arrives in the termination message.
func TestOrderTaskSucceeds(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	p, _ := runTask(t, cs, ns, &podtask.Task{
		State: "ValidateOrder", Resource: lambda + "ValidateOrder", Revision: orderBindings(),
		Input: input(t, `{"orderId":"ord-1001","items":[{"sku":"BOOK-1","qty":2,"priceCents":1999},{"sku":"PEN-9","qty":1,"priceCents":999}]}`),
	})
	if p.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("phase %s, termination %+v", p.Status.Phase, terminated(t, p))
	}
	want := `{"currency":"EUR","itemCount":2,"orderId":"ord-1001","totalCents":4997,"valid":true}`
	if got := terminated(t, p).Message; got != want {
		t.Errorf("termination message %s, want %s", got, want)
	}
	r := podtask.Finished(p)
	if r == nil || r.Error != "" || value.MarshalString(r.Output) != want {
		t.Errorf("podtask.Finished: %+v", r)
	}
}

// TestOrderTaskNamedError: a declined card ends the pod Failed with the named error in its
// termination message, which the controller turns into PaymentDeclined for Catch.
func TestOrderTaskNamedError(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	p, _ := runTask(t, cs, ns, &podtask.Task{
		State: "ChargePayment", Resource: lambda + "ChargePayment", Revision: orderBindings(),
		Input: input(t, `{"orderId":"ord-1002","amountCents":4997,"currency":"EUR","card":"4000000000000002"}`),
	})
	term := terminated(t, p)
	if p.Status.Phase != corev1.PodFailed || term.ExitCode != 1 {
		t.Fatalf("phase %s exit %d, want Failed and 1", p.Status.Phase, term.ExitCode)
	}
	want := `{"Error":"PaymentDeclined","Cause":"Card ending 0002 declined: insufficient funds"}`
	if term.Message != want {
		t.Errorf("termination message %s, want %s", term.Message, want)
	}
	if r := podtask.Finished(p); r == nil || r.Error != "PaymentDeclined" || r.Cause != "Card ending 0002 declined: insufficient funds" {
		t.Errorf("podtask.Finished: %+v", r)
	}
}

// TestFlakyInventorySucceedsOnRetry: the first attempt fails with InventoryUnavailable, the
// next (KSTATES_ATTEMPT=1, another pod) succeeds.
func TestFlakyInventorySucceedsOnRetry(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	in := `{"orderId":"flaky-1003","skus":["BOOK-1"]}`
	first, _ := runTask(t, cs, ns, &podtask.Task{State: "CheckInventory", Resource: lambda + "CheckInventory", Revision: orderBindings(), Attempt: 0, Input: input(t, in)})
	if r := podtask.Finished(first); r == nil || r.Error != "InventoryUnavailable" {
		t.Errorf("attempt 0: %+v, want InventoryUnavailable", r)
	}
	second, _ := runTask(t, cs, ns, &podtask.Task{State: "CheckInventory", Resource: lambda + "CheckInventory", Revision: orderBindings(), Attempt: 1, Input: input(t, in)})
	if second.Name == first.Name {
		t.Errorf("both attempts ran in pod %s", first.Name)
	}
	if r := podtask.Finished(second); r == nil || r.Error != "" || !strings.Contains(value.MarshalString(r.Output), `"reservationId":"res-flaky-1003"`) {
		t.Errorf("attempt 1: %+v, want a reservation", r)
	}
}

// TestUnnamedFailureIsTaskFailed: a non-zero exit without {"Error"} is States.TaskFailed.
func TestUnnamedFailureIsTaskFailed(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	p, _ := runTask(t, cs, ns, &podtask.Task{State: "Exit", Resource: podtask.ResourcePod, Input: input(t,
		`{"Image":"`+image("testtask")+`","ImagePullPolicy":"Never","Args":["exit"],"Input":{"code":3}}`)})
	if term := terminated(t, p); term.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", term.ExitCode)
	}
	if r := podtask.Finished(p); r == nil || r.Error != "States.TaskFailed" {
		t.Errorf("podtask.Finished: %+v, want States.TaskFailed", r)
	}
}

// TestTaskEnvironment: the pod sees the contract's variables and its input file.
func TestTaskEnvironment(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	p, _ := runTask(t, cs, ns, &podtask.Task{State: "Env", Resource: podtask.ResourcePod, Attempt: 2, TaskToken: "tok-123", Input: input(t,
		`{"Image":"`+image("testtask")+`","ImagePullPolicy":"Never","Args":["env"],"Input":{"a":1}}`)})
	msg := terminated(t, p).Message
	for _, want := range []string{`"KSTATES_ATTEMPT":"2"`, `"KSTATES_INPUT":"{\"a\":1}"`, `"KSTATES_INPUT_FILE":"/kstates/input.json"`, `"KSTATES_STATE":"Env"`, `"KSTATES_TASK_TOKEN":"tok-123"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("environment %s lacks %s", msg, want)
		}
	}
}

// TestLargeOutputOnStdout: an output over the termination message's 4096 bytes is the last
// line of the container's log (stdout), the message is empty, and the controller's log reader
// gets it back whole.
func TestLargeOutputOnStdout(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	const size = 200 * 1024
	p, _ := runTask(t, cs, ns, &podtask.Task{State: "Big", Resource: podtask.ResourcePod, Input: input(t,
		fmt.Sprintf(`{"Image":"%s","ImagePullPolicy":"Never","Args":["output"],"Input":{"bytes":%d}}`, image("testtask"), size))})
	if p.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("phase %s", p.Status.Phase)
	}
	if msg := terminated(t, p).Message; msg != "" {
		t.Errorf("termination message has %d bytes, want none", len(msg))
	}
	rc, err := cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{Container: podtask.ContainerName}).Stream(context.Background())
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
	if len(last) != size || !strings.HasPrefix(last, `{"data":"xxx`) {
		t.Errorf("last log line has %d bytes (%.40q), want %d", len(last), last, size)
	}
	// The controller's way: Finished says the output is on stdout, PodLogs reads the log's
	// tail through the API server, OutputFromLog takes its last line.
	r := podtask.Finished(p)
	if r == nil || r.Error != "" || !r.OutputOnStdout {
		t.Fatalf("podtask.Finished: %+v, want an output on stdout", r)
	}
	tail, err := controllers.PodLogs{Clientset: cs}.Tail(context.Background(), ns, p.Name, podtask.ContainerName, podtask.MaxLogOutputBytes)
	if err != nil {
		t.Fatalf("PodLogs.Tail: %v", err)
	}
	if got := value.Marshal(podtask.OutputFromLog(tail)); len(got) != size {
		// containerd writes a line longer than 16 KiB as several CRI log records, and the
		// kubelet's tailLines counts records, not lines: a tail of 2 is the last 8-24 KiB.
		t.Errorf("OutputFromLog(PodLogs.Tail) gave %d bytes (%.40q), want %d (the tail had %d bytes)", len(got), got, size, len(tail))
	}
}

// TestInClusterAPIAccess: a pod reaches the API server as in-cluster clients do, through
// the kubernetes Service address (no kube-proxy: hack/cluster-up.sh's DNAT), with the
// service account's CA and token.
func TestInClusterAPIAccess(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	p, _ := runTask(t, cs, ns, &podtask.Task{State: "API", Resource: podtask.ResourcePod, Input: input(t,
		`{"Image":"`+image("testtask")+`","ImagePullPolicy":"Never","Args":["apiserver"]}`)})
	if r := podtask.Finished(p); r == nil || r.Error != "" || !strings.Contains(value.MarshalString(r.Output), `"gitVersion":"v1.`) {
		t.Errorf("podtask.Finished: %+v", r)
	}
}
