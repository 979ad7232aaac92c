package envtest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/podtask"
	"github.com/kstates/kstates/test/testenv"
)

// kubeletLogs holds the container logs tests provide (a string, or the error reading it
// gives), by "namespace/pod".
var kubeletLogs sync.Map

// startManager runs the operator's reconcilers in the test process, watching only ns, with
// the given clock (nil: the real one). It stops when the test ends.
func startManager(t *testing.T, ns string, clk clock.PassiveClock) {
	t.Helper()
	_ = startManagerWith(t, ns, clk, nil)
}

// startManagerWith is startManager with a hook that adjusts the Execution reconciler.
// It returns a function that stops the manager (also called when the test ends).
func startManagerWith(t *testing.T, ns string, clk clock.PassiveClock, adjust func(*controllers.ExecutionReconciler)) (stop func()) {
	t.Helper()
	testenv.SetLogger() // KSTATES_TEST_LOG=1 shows the controllers' logs.
	mgr, err := ctrl.NewManager(restConfig, testenv.ManagerOptions(scheme, ns, 8))
	if err != nil {
		t.Fatalf("creating the manager: %v", err)
	}
	if err := (&controllers.StateMachineReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	clientset, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		t.Fatal(err)
	}
	apiLogs := controllers.PodLogs{Clientset: clientset}
	er := &controllers.ExecutionReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk,
		Recorder: mgr.GetEventRecorder("kstates-execution"),
		// envtest has no kubelet: a test that wants a task's log to exist provides it (as it
		// writes pod status); otherwise the request goes to the API server, which has no
		// node to ask.
		Logs: controllers.TaskLogsFunc(func(ctx context.Context, ns, pod, container string, limit int64) (string, error) {
			if v, ok := kubeletLogs.Load(ns + "/" + pod); ok {
				if err, ok := v.(error); ok {
					return "", err
				}
				return v.(string), nil
			}
			return apiLogs.Tail(ctx, ns, pod, container, limit)
		}),
	}
	if adjust != nil {
		adjust(er)
	}
	if err := er.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("manager: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// --- builders ---

// stateMachine builds a StateMachine for tests.
type stateMachine struct{ kstatesv1alpha1.StateMachine }

func makeStateMachine(ns, name, definition string) *stateMachine {
	sm := &stateMachine{}
	sm.Namespace, sm.Name = ns, name
	sm.Spec.DefinitionString = definition
	return sm
}

func (s *stateMachine) express() *stateMachine {
	s.Spec.Type = kstatesv1alpha1.StateMachineTypeExpress
	return s
}

func (s *stateMachine) binding(resource, image string) *stateMachine {
	s.Spec.Bindings = append(s.Spec.Bindings, kstatesv1alpha1.TaskBinding{Resource: resource, Container: kstatesv1alpha1.TaskContainer{Image: image}})
	return s
}

func (s *stateMachine) obj() *kstatesv1alpha1.StateMachine { return &s.StateMachine }

func (e *execution) stateMachine(name string) *execution { e.Spec.StateMachineName = name; return e }

// --- waiting ---

const waitTimeout = 30 * time.Second

// waitFor polls until cond returns true for the object, and fails with describe's text.
func waitFor[T client.Object](ctx context.Context, t *testing.T, obj T, what string, cond func(T) bool) T {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	var last error
	for time.Now().Before(deadline) {
		last = k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if last == nil && cond(obj) {
			return obj
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := json.MarshalIndent(obj, "", "  ")
	t.Fatalf("timed out waiting for %s of %s (last error %v); last seen:\n%s", what, obj.GetName(), last, b)
	return obj
}

// waitPhase waits until the execution reaches phase.
func waitPhase(ctx context.Context, t *testing.T, ns, name string, phase kstatesv1alpha1.ExecutionPhase) *kstatesv1alpha1.Execution {
	t.Helper()
	e := &kstatesv1alpha1.Execution{}
	e.Namespace, e.Name = ns, name
	return waitFor(ctx, t, e, "phase "+string(phase), func(e *kstatesv1alpha1.Execution) bool {
		if e.Status.Phase.IsFinal() && e.Status.Phase != phase {
			b, _ := json.MarshalIndent(e.Status, "", "  ")
			t.Fatalf("execution %s ended %s, want %s:\n%s", name, e.Status.Phase, phase, b)
		}
		return e.Status.Phase == phase
	})
}

// waitCondition waits until the object's condition has the status and reason.
func condition(conds []metav1.Condition, typ string) *metav1.Condition {
	return meta.FindStatusCondition(conds, typ)
}

// taskPod waits for the pod of a task attempt to exist and returns it.
func taskPod(ctx context.Context, t *testing.T, ns string, exec *kstatesv1alpha1.Execution, state string, attempt int) *corev1.Pod {
	t.Helper()
	return taskPodOfThread(ctx, t, ns, exec, state, "", attempt)
}

func taskPodOfThread(ctx context.Context, t *testing.T, ns string, exec *kstatesv1alpha1.Execution, state, thread string, attempt int) *corev1.Pod {
	t.Helper()
	if exec.UID == "" {
		if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(exec), exec); err != nil {
			t.Fatal(err)
		}
	}
	// The running pod of that state, thread and attempt (a state visited again in a loop has
	// finished pods of earlier visits).
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		pods := &corev1.PodList{}
		if err := k8sClient.List(ctx, pods, client.InNamespace(ns), client.MatchingLabels{kstatesv1alpha1.LabelExecutionUID: string(exec.UID)}); err != nil {
			t.Fatal(err)
		}
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Annotations[podtask.StateAnnotation] == state && p.Annotations[podtask.ThreadAnnotation] == thread &&
				p.Labels[podtask.AttemptLabel] == strconv.Itoa(attempt) && len(p.Status.ContainerStatuses) == 0 && p.DeletionTimestamp.IsZero() {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no running pod of state %s, thread %q, attempt %d", state, thread, attempt)
	return nil
}

// completePod writes the pod's status as a kubelet does when its container ends.
func completePod(ctx context.Context, t *testing.T, pod *corev1.Pod, exitCode int32, message string) {
	t.Helper()
	testenv.EndPod(pod, exitCode, message)
	if err := k8sClient.Status().Update(ctx, pod); err != nil {
		t.Fatalf("completing pod %s: %v", pod.Name, err)
	}
}

// history returns the types of the execution's whole history, chunks first.
func historyTypes(ctx context.Context, t *testing.T, e *kstatesv1alpha1.Execution) []string {
	t.Helper()
	var types []string
	var next int64 = 1
	for i := int32(0); i < e.Status.History.ChunkCount; i++ {
		c := &kstatesv1alpha1.HistoryChunk{}
		key := client.ObjectKey{Namespace: e.Namespace, Name: kstatesv1alpha1.HistoryChunkName(e.Status.History.ChunkPrefix, i)}
		if err := k8sClient.Get(ctx, key, c); err != nil {
			t.Fatalf("reading chunk %d: %v", i, err)
		}
		for _, ev := range c.Spec.Events {
			if ev.ID != next {
				t.Fatalf("chunk %d: event id %d, want %d", i, ev.ID, next)
			}
			next++
			types = append(types, ev.Type)
		}
	}
	for _, ev := range e.Status.History.Events {
		if ev.ID != next {
			t.Fatalf("window: event id %d, want %d", ev.ID, next)
		}
		next++
		types = append(types, ev.Type)
	}
	if next-1 != e.Status.History.EventCount {
		t.Fatalf("history holds %d events, eventCount says %d", next-1, e.Status.History.EventCount)
	}
	return types
}

// create creates objects or fails the test.
func create(ctx context.Context, t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := k8sClient.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}
}

// jsonEq reports whether two JSON texts are the same value.
func jsonEq(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }

func joined(s []string) string { return strings.Join(s, ",") }

// sleep waits seconds of real time.
func sleep(seconds float64) { time.Sleep(time.Duration(seconds * float64(time.Second))) }

// waitDeleted waits until the object is gone or being deleted.
func waitDeleted(ctx context.Context, t *testing.T, obj client.Object) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		err := k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj)
		if isNotFound(err) || (err == nil && !obj.GetDeletionTimestamp().IsZero()) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s was not deleted", obj.GetName())
}

func metaName(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
