package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/podtask"
	"github.com/kstates/kstates/test/testenv"
)

// opEnv is a test's view of the cluster with the operator's reconcilers run in the test's
// process (opCluster): a namespace, a typed clientset, a controller-runtime client, and the
// managers it started.
type opEnv struct {
	t      *testing.T
	ctx    context.Context
	cs     kubernetes.Interface
	c      client.Client
	cfg    *rest.Config
	scheme *runtime.Scheme
	ns     string
}

// opCluster makes a namespace on the e2e cluster (cluster) and installs the CRDs; the test
// starts managers with startManager. ctx ends after timeout.
func opCluster(t *testing.T, timeout time.Duration) *opEnv {
	t.Helper()
	cs, ns := cluster(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KSTATES_E2E_KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, kstatesv1alpha1.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	releaseRevisionsAtEnd(t, c, ns)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	installCRDs(ctx, t, c)
	return &opEnv{t: t, ctx: ctx, cs: cs, c: c, cfg: cfg, scheme: scheme, ns: ns}
}

// startManager runs the StateMachine and Execution reconcilers in this process, watching the
// test's namespace, until the returned stop is called (or the test ends). stop returns once
// the manager has stopped: its reconciles have returned and it makes no more requests.
func (e *opEnv) startManager() (stop func()) {
	t := e.t
	t.Helper()
	mgr, err := ctrl.NewManager(e.cfg, ctrl.Options{
		Scheme: e.scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{e.ns: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.StateMachineReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.ExecutionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Logs: controllers.PodLogs{Clientset: e.cs}}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// machine creates a StateMachine with the JSON definition def.
func (e *opEnv) machine(name, def string) {
	e.t.Helper()
	sm := &kstatesv1alpha1.StateMachine{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	sm.Spec.DefinitionString = def
	if err := e.c.Create(e.ctx, sm); err != nil {
		e.t.Fatalf("creating state machine %s: %v", name, err)
	}
}

// execute starts an execution of the state machine sm with the JSON input.
func (e *opEnv) execute(name, sm, input string) *kstatesv1alpha1.Execution {
	e.t.Helper()
	ex := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	ex.Spec.StateMachineName, ex.Spec.Input = sm, input
	if err := e.c.Create(e.ctx, ex); err != nil {
		e.t.Fatalf("creating execution %s: %v", name, err)
	}
	return ex
}

// waitEnded waits until the execution is in a final phase and returns it.
func (e *opEnv) waitEnded(name string) *kstatesv1alpha1.Execution {
	e.t.Helper()
	ex := &kstatesv1alpha1.Execution{}
	poll(e.ctx, e.t, "execution "+name+" to end", func() bool {
		return e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: name}, ex) == nil && ex.Status.Phase.IsFinal()
	})
	return ex
}

// history reads the execution's whole history as a client does: the sealed chunks in order,
// then the window, checking that the ids are contiguous.
func (e *opEnv) history(ex *kstatesv1alpha1.Execution) []kstatesv1alpha1.HistoryEvent {
	e.t.Helper()
	var all []kstatesv1alpha1.HistoryEvent
	h := ex.Status.History
	for i := int32(0); i < h.ChunkCount; i++ {
		c := &kstatesv1alpha1.HistoryChunk{}
		if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: kstatesv1alpha1.HistoryChunkName(h.ChunkPrefix, i)}, c); err != nil {
			e.t.Fatalf("execution %s: reading history chunk %d: %v", ex.Name, i, err)
		}
		all = append(all, c.Spec.Events...)
	}
	all = append(all, h.Events...)
	for i, ev := range all {
		if ev.ID != int64(i+1) {
			e.t.Fatalf("execution %s: history event %d has id %d", ex.Name, i+1, ev.ID)
		}
	}
	if int64(len(all)) != h.EventCount {
		e.t.Fatalf("execution %s: %d events in the history, eventCount %d", ex.Name, len(all), h.EventCount)
	}
	return all
}

// details returns an event's details JSON, read from its Payload when they were moved there.
func (e *opEnv) details(ev kstatesv1alpha1.HistoryEvent) string {
	e.t.Helper()
	if ev.DetailsRef != nil {
		return e.payload(ev.DetailsRef)
	}
	if ev.Details == nil {
		return ""
	}
	return string(ev.Details.Raw)
}

// output returns the execution's output as a client reads it: status.output, or the Payload
// named by status.outputRef (its SHA-256 checked).
func (e *opEnv) output(ex *kstatesv1alpha1.Execution) string {
	e.t.Helper()
	if ex.Status.OutputRef == nil {
		return ex.Status.Output
	}
	return e.payload(ex.Status.OutputRef)
}

// payload reads a Payload's data and checks it against the reference's size and SHA-256.
func (e *opEnv) payload(ref *kstatesv1alpha1.PayloadReference) string {
	e.t.Helper()
	p := &kstatesv1alpha1.Payload{}
	if err := e.c.Get(e.ctx, client.ObjectKey{Namespace: e.ns, Name: ref.Name}, p); err != nil {
		e.t.Fatalf("reading payload %s: %v", ref.Name, err)
	}
	sum := sha256.Sum256([]byte(p.Spec.Data))
	if got := hex.EncodeToString(sum[:]); got != p.Spec.SHA256 || (ref.SHA256 != "" && got != ref.SHA256) {
		e.t.Fatalf("payload %s: data's SHA-256 %s, spec says %s, reference %s", ref.Name, got, p.Spec.SHA256, ref.SHA256)
	}
	if ref.Size != 0 && int64(len(p.Spec.Data)) != ref.Size {
		e.t.Fatalf("payload %s: %d bytes, reference says %d", ref.Name, len(p.Spec.Data), ref.Size)
	}
	return p.Spec.Data
}

// taskPods lists the task pods of an execution (kstates.io/execution-uid), oldest first.
func (e *opEnv) taskPods(ex *kstatesv1alpha1.Execution) []corev1.Pod {
	e.t.Helper()
	pods, err := e.cs.CoreV1().Pods(e.ns).List(e.ctx, metav1.ListOptions{LabelSelector: kstatesv1alpha1.LabelExecutionUID + "=" + string(ex.UID)})
	if err != nil {
		e.t.Fatal(err)
	}
	sort.SliceStable(pods.Items, func(i, j int) bool {
		return pods.Items[i].CreationTimestamp.Before(&pods.Items[j].CreationTimestamp)
	})
	return pods.Items
}

// shape is a history's event types with their state names and previous ids, one per line:
// what an uninterrupted run and a resumed one must share (ids and timestamps aside).
func shape(events []kstatesv1alpha1.HistoryEvent) string {
	var b strings.Builder
	for _, ev := range events {
		fmt.Fprintf(&b, "%d<-%d %s %s\n", ev.ID, ev.PreviousEventID, ev.Type, ev.StateName)
	}
	return b.String()
}

// eventsOf returns the events of the given type, in order.
func eventsOf(events []kstatesv1alpha1.HistoryEvent, typ string) []kstatesv1alpha1.HistoryEvent {
	var out []kstatesv1alpha1.HistoryEvent
	for _, ev := range events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// sameJSON reports whether two JSON texts are the same value.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// podRecord is what a pod watch saw of one pod object (one UID).
type podRecord struct {
	name, execUID, state, attempt string
	// exitCode is the task container's exit code once the watch saw it terminated, else -1.
	exitCode int32
	// phaseAtDelete is the pod's phase when its deletion was first seen ("" if never deleted);
	// terminatedAtDelete says whether its container had terminated by then.
	phaseAtDelete      corev1.PodPhase
	terminatedAtDelete bool
	restarts           int32
}

// podWatch records every task pod of the namespace from the moment it starts, so that pods
// deleted later (timed out, swept) and pods created twice under one name (two UIDs) are
// counted.
type podWatch struct {
	mu   sync.Mutex
	pods map[types.UID]*podRecord
}

// watchPods starts a pod watch on the test's namespace; it runs until the test's context ends.
func (e *opEnv) watchPods() *podWatch {
	e.t.Helper()
	w, err := e.cs.CoreV1().Pods(e.ns).Watch(e.ctx, metav1.ListOptions{LabelSelector: podtask.TaskLabel + "=true"})
	if err != nil {
		e.t.Fatal(err)
	}
	pw := &podWatch{pods: map[types.UID]*podRecord{}}
	go func() {
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			pw.mu.Lock()
			r := pw.pods[p.UID]
			if r == nil {
				r = &podRecord{name: p.Name, execUID: p.Labels[kstatesv1alpha1.LabelExecutionUID],
					state: p.Annotations[podtask.StateAnnotation], attempt: p.Labels[podtask.AttemptLabel], exitCode: -1}
				pw.pods[p.UID] = r
			}
			term := false
			for _, c := range p.Status.ContainerStatuses {
				r.restarts = max(r.restarts, c.RestartCount)
				if c.State.Terminated != nil {
					term = true
					if r.exitCode < 0 {
						r.exitCode = c.State.Terminated.ExitCode
					}
				}
			}
			if (ev.Type == watch.Deleted || !p.DeletionTimestamp.IsZero()) && r.phaseAtDelete == "" {
				r.phaseAtDelete, r.terminatedAtDelete = p.Status.Phase, term
			}
			pw.mu.Unlock()
		}
	}()
	return pw
}

// of returns the records of an execution's pods, by pod name.
func (pw *podWatch) of(ex *kstatesv1alpha1.Execution) map[string][]podRecord {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	out := map[string][]podRecord{}
	for _, r := range pw.pods {
		if r.execUID == string(ex.UID) {
			out[r.name] = append(out[r.name], *r)
		}
	}
	return out
}

// releaseRevisionsAtEnd removes the revisions' in-use finalizer when the test ends, once the
// managers it started in this process have stopped (their cleanups run first) and before the
// namespace is deleted (its cleanup, registered by cluster, runs last): with no operator left,
// the finalizer would hold the namespace in Terminating.
func releaseRevisionsAtEnd(t *testing.T, c client.Client, ns string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := testenv.ReleaseRevisions(ctx, c, ns); err != nil {
			t.Logf("namespace %s: %v", ns, err)
		}
	})
}
