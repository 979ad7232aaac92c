// Command taskoverhead measures the Execution controller's own overhead per Task state on the
// real local cluster (hack/cluster-up.sh): one execution of a machine of N sequential Task
// states (testtask echo, a pod each), with the operator's reconcilers running in this
// process, and a pod watch and an Execution watch of its own in this process too, so that
// every time below is read from one clock, to the microsecond:
//
//	entered -> pod created   the state's TaskStateEntered event (its timestamp is taken
//	                         when the reconcile that enters it starts) to this program's
//	                         watch seeing the pod ADDED;
//	pod ended -> next state  the watch seeing the container's terminated state (the
//	                         kubelet's status update: what the controller waits for) to the
//	                         task's TaskSucceeded event (the same reconcile enters the next
//	                         state: the events share the timestamp);
//	gap                      pod ended (seen) to the next task's pod created (seen): the
//	                         controller's whole share between two pods;
//	entered -> committed     the TaskStateEntered event to the watch seeing the status that
//	                         records it (after the pod's create);
//	pod's own time           pod ADDED to its container's terminated state seen (scheduling,
//	                         sandbox, start, run, the kubelet's report).
//
// The pod's creationTimestamp and the container's finishedAt have one-second precision and
// are not used for the intervals. Run it with hack/bench-task-overhead.sh;
// docs/benchmarks.md has the figures.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
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
	"sigs.k8s.io/yaml"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/podtask"
	"github.com/kstates/kstates/test/testenv"
)

type options struct {
	kubeconfig string
	tasks      int
	image      string
	crds       string
	keep       bool
	timeout    time.Duration
}

func main() {
	var o options
	def := os.Getenv("KSTATES_E2E_KUBECONFIG")
	if def == "" {
		def = "/tmp/kstates-cluster/kubeconfig"
	}
	flag.StringVar(&o.kubeconfig, "cluster-kubeconfig", def, "the local cluster's kubeconfig ($KSTATES_E2E_KUBECONFIG, else hack/cluster-up.sh's)")
	flag.IntVar(&o.tasks, "tasks", 100, "sequential Task states (task runs) of the measured execution")
	flag.StringVar(&o.image, "image", "kstates.local/testtask:dev", "the task image (testtask; in the node's containerd)")
	flag.StringVar(&o.crds, "crds", "config/crd/bases", "the CRDs to install or update before the run")
	flag.BoolVar(&o.keep, "keep", false, "keep the namespace after the run")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-task-overhead:", err)
		os.Exit(1)
	}
}

var scheme = k8sruntime.NewScheme()

// podTimes is what the pod watch saw of one task pod.
type podTimes struct {
	state      string
	added      time.Time // the watch's ADDED event
	terminated time.Time // the first version with the container's terminated state
	finishedAt time.Time // the container's finishedAt (one-second precision)
	created    time.Time // metadata.creationTimestamp (one-second precision)
}

// commit is an Execution status the watch saw: when, and how many events it recorded.
type commit struct {
	at     time.Time
	events int64
}

func run(o options) error {
	ctrl.SetLogger(logr.Discard())
	for _, add := range []func(*k8sruntime.Scheme) error{clientgoscheme.AddToScheme, kstatesv1alpha1.AddToScheme, apiextensionsv1.AddToScheme} {
		if err := add(scheme); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	cfg, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", o.kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	if err := installCRDs(ctx, c, o.crds); err != nil {
		return err
	}
	ns := fmt.Sprintf("bench-taskoverhead-%04x", rand.IntN(1<<16))
	if err := makeNamespace(ctx, cs, ns); err != nil {
		return err
	}
	if !o.keep {
		defer func() {
			// The manager has stopped (deferred later, run first): nothing else would remove
			// the revisions' in-use finalizer, which would hold the namespace in Terminating.
			_ = testenv.ReleaseRevisions(context.Background(), c, ns)
			_ = cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
		}()
	}

	// The watches start before anything runs.
	var mu sync.Mutex
	pods := map[string]*podTimes{}
	var commits []commit
	pw, err := cs.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{LabelSelector: podtask.TaskLabel + "=true"})
	if err != nil {
		return err
	}
	defer pw.Stop()
	go func() {
		for ev := range pw.ResultChan() {
			now := time.Now()
			p, ok := ev.Object.(*corev1.Pod)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			mu.Lock()
			pt := pods[p.Name]
			if pt == nil {
				pt = &podTimes{state: p.Annotations[podtask.StateAnnotation], added: now, created: p.CreationTimestamp.Time}
				pods[p.Name] = pt
			}
			if pt.terminated.IsZero() && podtask.Finished(p) != nil {
				pt.terminated = now
				for _, s := range p.Status.ContainerStatuses {
					if s.State.Terminated != nil {
						pt.finishedAt = s.State.Terminated.FinishedAt.Time
					}
				}
			}
			mu.Unlock()
		}
	}()
	ew, err := c.Watch(ctx, &kstatesv1alpha1.ExecutionList{}, client.InNamespace(ns))
	if err != nil {
		return err
	}
	defer ew.Stop()
	go func() {
		for ev := range ew.ResultChan() {
			now := time.Now()
			if e, ok := ev.Object.(*kstatesv1alpha1.Execution); ok {
				mu.Lock()
				commits = append(commits, commit{at: now, events: e.Status.History.EventCount})
				mu.Unlock()
			}
		}
	}()

	stop, err := startManager(ctx, cfg, cs, ns)
	if err != nil {
		return err
	}
	defer stop()

	sm := &kstatesv1alpha1.StateMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "seq"}}
	sm.Spec.DefinitionString = definition(o.tasks, o.image)
	if err := c.Create(ctx, sm); err != nil {
		return fmt.Errorf("creating the state machine: %w", err)
	}
	ex := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "seq-1"}}
	ex.Spec.StateMachineName, ex.Spec.Input = "seq", `{}`
	fmt.Printf("namespace %s: one execution of %d sequential Task states (%s echo), the controller in this process\n", ns, o.tasks, o.image)
	start := time.Now()
	if err := c.Create(ctx, ex); err != nil {
		return fmt.Errorf("creating the execution: %w", err)
	}
	for {
		if err := c.Get(ctx, client.ObjectKeyFromObject(ex), ex); err != nil {
			return err
		}
		if ex.Status.Phase.IsFinal() {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the execution did not end within %v: %s in %s", o.timeout, ex.Status.Phase, ex.Status.CurrentState)
		case <-time.After(500 * time.Millisecond):
		}
	}
	took := time.Since(start)
	if ex.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
		return fmt.Errorf("the execution ended %s: %s %s", ex.Status.Phase, ex.Status.Error, ex.Status.Cause)
	}
	time.Sleep(time.Second) // the last watch events
	stop()
	events, err := history(ctx, c, ex)
	if err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return report(o.tasks, took, events, pods, commits)
}

// definition is a machine of n Task states, T000 -> T001 -> ..., each a testtask echo pod.
func definition(n int, img string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"StartAt":"T000","States":{`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		next := `"End":true`
		if i < n-1 {
			next = fmt.Sprintf(`"Next":"T%03d"`, i+1)
		}
		fmt.Fprintf(&b, `"T%03d":{"Type":"Task","Resource":"kstates:pod","Parameters":{"Image":%q,"ImagePullPolicy":"Never","Args":["echo"],"Input":{"i":%d}},"ResultPath":null,%s}`, i, img, i, next)
	}
	b.WriteString(`}}`)
	return b.String()
}

// taskEvents are the controller's timestamps of one Task state.
type taskEvents struct {
	enteredID int64
	entered   time.Time
	succeeded time.Time
	next      time.Time // the next state's entered event, or ExecutionSucceeded
}

func report(n int, took time.Duration, events []kstatesv1alpha1.HistoryEvent, pods map[string]*podTimes, commits []commit) error {
	tasks := map[string]*taskEvents{}
	var order []string
	var cur *taskEvents
	for _, ev := range events {
		switch ev.Type {
		case "TaskStateEntered":
			if cur != nil && cur.next.IsZero() {
				cur.next = ev.Timestamp.Time
			}
			cur = &taskEvents{enteredID: ev.ID, entered: ev.Timestamp.Time}
			tasks[ev.StateName] = cur
			order = append(order, ev.StateName)
		case "TaskSucceeded":
			if cur != nil {
				cur.succeeded = ev.Timestamp.Time
			}
		case "ExecutionSucceeded":
			if cur != nil && cur.next.IsZero() {
				cur.next = ev.Timestamp.Time
			}
		}
	}
	byState := map[string]*podTimes{}
	for _, p := range pods {
		if byState[p.state] != nil {
			return fmt.Errorf("state %s ran two pods", p.state)
		}
		byState[p.state] = p
	}
	if len(order) != n || len(byState) != n {
		return fmt.Errorf("%d Task states entered and %d task pods seen, want %d of each", len(order), len(byState), n)
	}
	var toCreate, toNext, toSucceeded, gap, toCommit, own, kubeletLag []time.Duration
	sameStep := 0
	for i, st := range order {
		te, p := tasks[st], byState[st]
		if p == nil || p.terminated.IsZero() || te.succeeded.IsZero() {
			return fmt.Errorf("state %s: pod %+v, events %+v: incomplete", st, p, te)
		}
		toCreate = append(toCreate, p.added.Sub(te.entered))
		toSucceeded = append(toSucceeded, te.succeeded.Sub(p.terminated))
		toNext = append(toNext, te.next.Sub(p.terminated))
		if te.next.Equal(te.succeeded) {
			sameStep++
		}
		if i+1 < len(order) {
			gap = append(gap, byState[order[i+1]].added.Sub(p.terminated))
		}
		for _, cm := range commits {
			if cm.events >= te.enteredID {
				toCommit = append(toCommit, cm.at.Sub(te.entered))
				break
			}
		}
		own = append(own, p.terminated.Sub(p.added))
		kubeletLag = append(kubeletLag, p.terminated.Sub(p.finishedAt))
	}
	fmt.Printf("the execution took %v: %d task runs, %.2f s per task\n", took.Round(time.Millisecond), n, took.Seconds()/float64(n))
	fmt.Printf("%d of %d tasks: TaskSucceeded and the next state's entered event in the same reconcile\n\n", sameStep, n)
	fmt.Printf("%-52s %8s %8s %8s %8s %8s %5s\n", "interval (one clock, this process)", "median", "p95", "mean", "min", "max", "runs")
	line := func(name string, d []time.Duration) {
		if len(d) == 0 {
			return
		}
		s := append([]time.Duration(nil), d...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		var sum time.Duration
		for _, x := range s {
			sum += x
		}
		fmt.Printf("%-52s %8s %8s %8s %8s %8s %5d\n", name, ms(pct(s, 50)), ms(pct(s, 95)), ms(sum/time.Duration(len(s))), ms(s[0]), ms(s[len(s)-1]), len(s))
	}
	line("(a) TaskStateEntered -> pod ADDED (watch)", toCreate)
	line("(b) container terminated (watch) -> TaskSucceeded", toSucceeded)
	line("(b') container terminated (watch) -> next entered", toNext)
	line("gap: container terminated -> next pod ADDED", gap)
	line("TaskStateEntered -> its status write seen (watch)", toCommit)
	line("pod's own time: ADDED -> terminated seen", own)
	line("kubelet report: finishedAt (1 s precision) -> seen", kubeletLag)
	return nil
}

// pct is the nearest-rank p-th percentile of sorted durations.
func pct(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted) + 99) / 100
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// history reads the execution's whole history: the sealed chunks, then the window.
func history(ctx context.Context, c client.Client, ex *kstatesv1alpha1.Execution) ([]kstatesv1alpha1.HistoryEvent, error) {
	var all []kstatesv1alpha1.HistoryEvent
	h := ex.Status.History
	for i := int32(0); i < h.ChunkCount; i++ {
		ch := &kstatesv1alpha1.HistoryChunk{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: ex.Namespace, Name: kstatesv1alpha1.HistoryChunkName(h.ChunkPrefix, i)}, ch); err != nil {
			return nil, fmt.Errorf("history chunk %d: %w", i, err)
		}
		all = append(all, ch.Spec.Events...)
	}
	all = append(all, h.Events...)
	if int64(len(all)) != h.EventCount {
		return nil, fmt.Errorf("the history has %d events, eventCount says %d", len(all), h.EventCount)
	}
	return all, nil
}

// startManager runs the operator's reconcilers in this process, watching ns, as cmd/manager
// configures them (8 Execution workers; only task pods cached).
func startManager(ctx context.Context, cfg *rest.Config, cs kubernetes.Interface, ns string) (func(), error) {
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache: cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}, ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {Label: labels.SelectorFromSet(labels.Set{podtask.TaskLabel: "true"})},
		}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true),
			GroupKindConcurrency: map[string]int{"Execution.kstates.io": 8}},
	})
	if err != nil {
		return nil, err
	}
	if err := (&controllers.StateMachineReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	if err := (&controllers.ExecutionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Logs: controllers.PodLogs{Clientset: cs}}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				fmt.Fprintln(os.Stderr, "manager:", err)
			}
		})
	}, nil
}

// makeNamespace creates ns and waits for its default ServiceAccount (pods need it).
func makeNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", ns, err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("namespace %s has no default ServiceAccount after 30s (is kube-controller-manager running?)", ns)
		}
	}
}

// installCRDs creates or updates the CRDs in dir and waits until they are established.
func installCRDs(ctx context.Context, c client.Client, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no CRDs in %s (run from the repository's root): %v", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(b, crd); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		err = c.Create(ctx, crd)
		if apierrors.IsAlreadyExists(err) {
			old := &apiextensionsv1.CustomResourceDefinition{}
			if err = c.Get(ctx, client.ObjectKeyFromObject(crd), old); err == nil {
				crd.ResourceVersion = old.ResourceVersion
				err = c.Update(ctx, crd)
			}
		}
		if err != nil {
			return fmt.Errorf("installing %s: %w", crd.Name, err)
		}
		for established := false; !established; {
			got := &apiextensionsv1.CustomResourceDefinition{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(crd), got); err != nil {
				return err
			}
			for _, cond := range got.Status.Conditions {
				established = established || (cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue)
			}
			if !established {
				select {
				case <-ctx.Done():
					return fmt.Errorf("%s is not established", crd.Name)
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
	}
	return nil
}
