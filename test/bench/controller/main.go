// Command controller measures the Execution controller against a real API server (envtest:
// kube-apiserver and etcd on this machine) and, in the same run against the same API server,
// the ceiling its design allows: each transition is committed as a status write before the
// next, so the status writes per second that 8 concurrent writers get through bound it.
//
// It prints, for 1,000 concurrent executions of a 20-state Pass/Choice machine: state
// transitions per second, the median time per state (one execution alone, and under that
// load), API writes per transition (the controller's own count and the API server's
// apiserver_request_total), and the ceiling and the ratio. Run it with
// hack/bench-controller.sh; docs/benchmarks.md has the method and the figures.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/controllers"
	"github.com/kstates/kstates/internal/cli"
	"github.com/kstates/kstates/test/testenv"
)

type options struct {
	executions     int
	states         int
	workers        int
	steps          int
	writers        int
	ceilingSeconds float64
	alone          int
	cpuProfile     string
	apiProfile     string
	timeout        time.Duration
	dump           bool
}

func main() {
	var o options
	flag.IntVar(&o.executions, "executions", 1000, "concurrent executions")
	flag.IntVar(&o.states, "states", 20, "states of the Pass/Choice machine")
	flag.IntVar(&o.workers, "workers", 8, "Execution reconciles at once (the manager's --execution-workers default)")
	flag.IntVar(&o.steps, "steps-per-reconcile", 1, "transitions one reconcile may commit in a row (the manager's --steps-per-reconcile; 1 is its default)")
	flag.IntVar(&o.writers, "writers", 8, "concurrent writers of the ceiling measurement")
	flag.Float64Var(&o.ceilingSeconds, "ceiling-seconds", 10, "how long the ceiling is measured")
	flag.IntVar(&o.alone, "alone", 5, "executions run one at a time for the unloaded time per state")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write the benchmark process's CPU profile (the controller) during the loaded run to this file")
	flag.StringVar(&o.apiProfile, "apiserver-cpuprofile", "", "write kube-apiserver's CPU profile during the loaded run to this file")
	flag.BoolVar(&o.dump, "dump", false, "print one ended Execution of the loaded run as JSON (what each write carries)")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench-controller:", err)
		os.Exit(1)
	}
}

var scheme *k8sruntime.Scheme

func run(o options) error {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return fmt.Errorf("KUBEBUILDER_ASSETS is not set: run hack/bench-controller.sh")
	}
	var err error
	if scheme, err = testenv.NewScheme(); err != nil {
		return err
	}
	ctrl.SetLogger(logr.Discard())
	env, cfg, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	// As the manager runs in production (controller-runtime's GetConfig): no client-side rate
	// limit, API priority and fairness decide.
	cfg.QPS, cfg.Burst = -1, 0
	// Interrupted or timed out, it still stops kube-apiserver and etcd (the deferred Stop).
	sctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sctx, o.timeout)
	defer cancel()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	m := &machineInfo{cores: runtime.NumCPU()}
	fmt.Printf("bench-controller: %d cores, %s, kube-apiserver and etcd from KUBEBUILDER_ASSETS=%s\n", m.cores, runtime.Version(), os.Getenv("KUBEBUILDER_ASSETS"))

	ceiling, err := measureCeiling(ctx, c, o)
	if err != nil {
		return fmt.Errorf("ceiling: %w", err)
	}
	fmt.Printf("ceiling: %d writers, small status merge-patches: %.0f per second (%d in %.1f s; kube-apiserver CPU %v per patch)\n",
		o.writers, ceiling.rate, ceiling.n, ceiling.d.Seconds(), ceiling.apiCPU.Round(10*time.Microsecond))

	res, err := measureController(ctx, cfg, c, o)
	if err != nil {
		return fmt.Errorf("controller: %w", err)
	}
	// The machine is shared: the ceiling is measured again after the controller's run, and
	// the ratio is to the mean of both.
	after, err := measureCeiling(ctx, c, o)
	if err != nil {
		return fmt.Errorf("ceiling after the run: %w", err)
	}
	fmt.Printf("ceiling after the run: %.0f per second (%d in %.1f s; kube-apiserver CPU %v per patch)\n",
		after.rate, after.n, after.d.Seconds(), after.apiCPU.Round(10*time.Microsecond))
	res.print(o, (ceiling.rate+after.rate)/2, (ceiling.apiCPU+after.apiCPU)/2)
	return nil
}

type machineInfo struct{ cores int }

// --- the ceiling ---

type rate struct {
	n    int64
	d    time.Duration
	rate float64
	// apiCPU is kube-apiserver's CPU time per patch, the cost of one write independent of
	// how much CPU the shared machine left it.
	apiCPU time.Duration
}

// measureCeiling: o.writers goroutines, each merge-patching the status of its own small
// Execution (no controller runs in that namespace) as fast as the API server answers.
func measureCeiling(ctx context.Context, c client.Client, o options) (rate, error) {
	ns, err := namespace(ctx, c, "bench-ceiling-")
	if err != nil {
		return rate{}, err
	}
	objs := make([]*kstatesv1alpha1.Execution, o.writers)
	for i := range objs {
		e := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("w%d", i)}}
		e.Spec.StateMachineName = "none"
		if err := c.Create(ctx, e); err != nil {
			return rate{}, err
		}
		objs[i] = e
	}
	var n, failed atomic.Int64
	cpuBefore := childCPU()
	stop := time.Now().Add(time.Duration(o.ceilingSeconds * float64(time.Second)))
	start := time.Now()
	var wg sync.WaitGroup
	for i := range objs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := objs[i].DeepCopy()
			for k := 0; time.Now().Before(stop) && ctx.Err() == nil; k++ {
				p := client.RawPatch("application/merge-patch+json", []byte(fmt.Sprintf(`{"status":{"currentState":"S%d","phase":"Running"}}`, k%20)))
				if err := c.Status().Patch(ctx, e, p); err != nil {
					failed.Add(1)
					continue
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	if f := failed.Load(); f > 0 {
		return rate{}, fmt.Errorf("%d patches failed", f)
	}
	cpu := childCPU()["kube-apiserver"] - cpuBefore["kube-apiserver"]
	return rate{n: n.Load(), d: d, rate: float64(n.Load()) / d.Seconds(), apiCPU: cpu / time.Duration(max(n.Load(), 1))}, nil
}

// --- the controller ---

// counting counts the controller's writes by kind.
type counting struct {
	client.Client
	mu     sync.Mutex
	writes map[string]int
	errs   map[string]int
	// latency holds the duration of each status write of an Execution.
	latency []time.Duration
}

func (c *counting) count(what string, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes[what]++
	if err != nil {
		c.errs[what+": "+reasonOf(err)]++
	}
	return err
}

func reasonOf(err error) string {
	s := err.Error()
	switch {
	case strings.Contains(s, "the object has been modified"):
		return "conflict"
	case strings.Contains(s, "already exists"):
		return "already exists"
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

func kindOf(obj client.Object) string {
	if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
		return m.Kind
	}
	t := fmt.Sprintf("%T", obj)
	return t[strings.LastIndex(t, ".")+1:]
}

func (c *counting) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	return c.count("create "+kindOf(obj), c.Client.Create(ctx, obj, opts...))
}
func (c *counting) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return c.count("update "+kindOf(obj), c.Client.Update(ctx, obj, opts...))
}
func (c *counting) Patch(ctx context.Context, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
	return c.count("patch "+kindOf(obj), c.Client.Patch(ctx, obj, p, opts...))
}
func (c *counting) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	return c.count("delete "+kindOf(obj), c.Client.Delete(ctx, obj, opts...))
}
func (c *counting) Status() client.SubResourceWriter {
	return &countingStatus{SubResourceWriter: c.Client.Status(), c: c}
}

type countingStatus struct {
	client.SubResourceWriter
	c *counting
}

func (s *countingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	start := time.Now()
	err := s.SubResourceWriter.Update(ctx, obj, opts...)
	s.c.timed(obj, time.Since(start))
	return s.c.count("update status "+kindOf(obj), err)
}
func (s *countingStatus) Patch(ctx context.Context, obj client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
	start := time.Now()
	err := s.SubResourceWriter.Patch(ctx, obj, p, opts...)
	s.c.timed(obj, time.Since(start))
	return s.c.count("patch status "+kindOf(obj), err)
}

// timed records the latency of a status write of an Execution.
func (c *counting) timed(obj client.Object, d time.Duration) {
	if kindOf(obj) != "Execution" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = append(c.latency, d)
}

func (c *counting) snapshot() (map[string]int, map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w, e := map[string]int{}, map[string]int{}
	for k, v := range c.writes {
		w[k] = v
	}
	for k, v := range c.errs {
		e[k] = v
	}
	return w, e
}

type controllerResult struct {
	alonePerState          []time.Duration
	executions             int
	transitions            int
	elapsed                time.Duration
	loadedPerState         []time.Duration
	writes, errs           map[string]int
	apiRequests            map[string]float64
	cpu                    map[string]time.Duration
	revisionOwners         int
	revisionBytes          int
	revisionVersion        string // the revision's resourceVersion before the executions
	revisionWritten        bool   // it changed by the end
	phases                 map[kstatesv1alpha1.ExecutionPhase]int
	firstToLastStart       time.Duration
	objectBytes            []int
	chunks                 int
	writeLatency           []time.Duration
	cpuProfile, apiProfile string
}

func measureController(ctx context.Context, cfg *rest.Config, c client.Client, o options) (*controllerResult, error) {
	ns, err := namespace(ctx, c, "bench-controller-")
	if err != nil {
		return nil, err
	}
	res := &controllerResult{}
	sm := &kstatesv1alpha1.StateMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pass-choice"}}
	sm.Spec.DefinitionString = testenv.PassChoiceMachine(o.states)
	if err := c.Create(ctx, sm); err != nil {
		return nil, err
	}
	m, err := startManager(ctx, cfg, ns, o.workers, o.steps)
	if err != nil {
		return nil, err
	}
	defer m.stop()
	if err := waitValid(ctx, c, sm); err != nil {
		return nil, err
	}
	rev := &kstatesv1alpha1.StateMachineRevision{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: sm.Status.CurrentRevision}, rev); err != nil {
		return nil, err
	}
	res.revisionVersion = rev.ResourceVersion

	// One execution at a time: the time per state without load.
	for i := range o.alone {
		e := newExecution(ns, fmt.Sprintf("alone-%d", i), i)
		if err := c.Create(ctx, e); err != nil {
			return nil, err
		}
		for {
			if err := c.Get(ctx, client.ObjectKeyFromObject(e), e); err != nil {
				return nil, err
			}
			if e.Status.Phase.IsFinal() {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if e.Status.Phase != kstatesv1alpha1.ExecutionSucceeded {
			return nil, fmt.Errorf("%s ended %s: %s %s", e.Name, e.Status.Phase, e.Status.Error, e.Status.Cause)
		}
		events, err := cli.ReadHistory(ctx, c, e)
		if err != nil {
			return nil, err
		}
		res.alonePerState = append(res.alonePerState, perState(events)...)
	}

	// The loaded run: the executions are created while the controller is paused (its manager
	// is stopped), then a fresh manager starts and runs them all.
	m.stop()
	execs := make([]*kstatesv1alpha1.Execution, o.executions)
	var wg sync.WaitGroup
	var createErr atomic.Value
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < o.executions; i += 16 {
				e := newExecution(ns, fmt.Sprintf("e-%04d", i), i)
				if err := c.Create(ctx, e); err != nil {
					createErr.Store(err)
					return
				}
				execs[i] = e
			}
		}()
	}
	wg.Wait()
	if err, _ := createErr.Load().(error); err != nil {
		return nil, err
	}
	apiBefore, err := apiserverRequests(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cpuBefore := childCPU()
	var apiProf chan []byte
	if o.apiProfile != "" {
		apiProf = make(chan []byte, 1)
		go func() { b, _ := apiserverProfile(ctx, cfg, 20); apiProf <- b }()
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, err
		}
		res.cpuProfile = o.cpuProfile
	}
	start := time.Now()
	m, err = startManager(ctx, cfg, ns, o.workers, o.steps)
	if err != nil {
		return nil, err
	}
	defer m.stop()
	// Wait on the manager's own cache: polling the API server would load it.
	list := &kstatesv1alpha1.ExecutionList{}
	lastReport := time.Now()
	for {
		time.Sleep(100 * time.Millisecond)
		// Read-only: without the deep copy of every Execution, which would take CPU from
		// the API server on this machine.
		if err := m.mgr.GetCache().List(ctx, list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			continue
		}
		ended, begun := 0, 0
		for i := range list.Items {
			e := &list.Items[i]
			if !strings.HasPrefix(e.Name, "e-") {
				continue
			}
			if e.Status.StartTime != nil {
				begun++
			}
			if e.Status.Phase.IsFinal() {
				ended++
			}
		}
		if ended == o.executions {
			break
		}
		if time.Since(lastReport) > 10*time.Second {
			lastReport = time.Now()
			w, _ := m.cc.snapshot()
			fmt.Fprintf(os.Stderr, "  %v: %d started, %d ended, controller writes %v\n", time.Since(start).Round(time.Second), begun, ended, w)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%d of %d executions ended before the timeout", ended, o.executions)
		}
	}
	res.elapsed = time.Since(start)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	res.cpu = childCPU()
	for k, v := range cpuBefore {
		res.cpu[k] -= v
	}
	res.writes, res.errs = m.cc.snapshot()
	m.cc.mu.Lock()
	res.writeLatency = append([]time.Duration(nil), m.cc.latency...)
	m.cc.mu.Unlock()
	apiAfter, err := apiserverRequests(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.apiRequests = map[string]float64{}
	for k, v := range apiAfter {
		if d := v - apiBefore[k]; d > 0 {
			res.apiRequests[k] = d
		}
	}
	if apiProf != nil {
		b := <-apiProf
		if len(b) > 0 {
			if err := os.WriteFile(o.apiProfile, b, 0o644); err != nil {
				return nil, err
			}
			res.apiProfile = o.apiProfile
		}
	}
	m.stop()

	// Read the outcome from the API server.
	all := &kstatesv1alpha1.ExecutionList{}
	if err := c.List(ctx, all, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	res.phases = map[kstatesv1alpha1.ExecutionPhase]int{}
	var firstStart, lastStart time.Time
	for i := range all.Items {
		e := &all.Items[i]
		if !strings.HasPrefix(e.Name, "e-") {
			continue
		}
		res.executions++
		res.phases[e.Status.Phase]++
		events, err := cli.ReadHistory(ctx, c, e)
		if err != nil {
			return nil, err
		}
		res.chunks += int(e.Status.History.ChunkCount)
		for _, ev := range events {
			if strings.HasSuffix(ev.Type, "StateEntered") {
				res.transitions++
			}
			if ev.Type == "ExecutionStarted" {
				t := ev.Timestamp.Time
				if firstStart.IsZero() || t.Before(firstStart) {
					firstStart = t
				}
				if t.After(lastStart) {
					lastStart = t
				}
			}
		}
		res.loadedPerState = append(res.loadedPerState, perState(events)...)
		if b, err := json.Marshal(e); err == nil {
			res.objectBytes = append(res.objectBytes, len(b))
			if o.dump && len(res.objectBytes) == 1 {
				fmt.Printf("an ended Execution: %s\n", b)
			}
		}
	}
	res.firstToLastStart = lastStart.Sub(firstStart)
	revs := &kstatesv1alpha1.StateMachineRevisionList{}
	if err := c.List(ctx, revs, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	for _, r := range revs.Items {
		res.revisionOwners = max(res.revisionOwners, len(r.OwnerReferences))
		if b, err := json.Marshal(&r); err == nil {
			res.revisionBytes = max(res.revisionBytes, len(b))
		}
		res.revisionWritten = res.revisionWritten || r.ResourceVersion != res.revisionVersion
	}
	return res, nil
}

func newExecution(ns, name string, i int) *kstatesv1alpha1.Execution {
	e := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	e.Spec.StateMachineName = "pass-choice"
	e.Spec.Input = fmt.Sprintf(`{"id":%d}`, i)
	return e
}

// perState is the time from each state's entry to the next state's entry (the last one to
// the end of the execution), from the history's microsecond timestamps.
func perState(events []kstatesv1alpha1.HistoryEvent) []time.Duration {
	var out []time.Duration
	var last time.Time
	for _, ev := range events {
		if strings.HasSuffix(ev.Type, "StateEntered") || ev.Type == "ExecutionSucceeded" {
			if !last.IsZero() {
				out = append(out, ev.Timestamp.Sub(last))
			}
			last = ev.Timestamp.Time
		}
	}
	return out
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func medianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[len(s)/2]
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (r *controllerResult) print(o options, ceiling float64, ceilingCPU time.Duration) {
	fmt.Printf("one execution at a time (%d runs of %d states): median time per state %v (p95 %v)\n",
		o.alone, o.states, median(r.alonePerState).Round(10*time.Microsecond), quantile(r.alonePerState, 0.95).Round(10*time.Microsecond))
	tps := float64(r.transitions) / r.elapsed.Seconds()
	fmt.Printf("%d concurrent executions of a %d-state Pass/Choice machine, %d workers, %d step(s) per reconcile: %v, phases %v\n",
		r.executions, o.states, o.workers, o.steps, r.elapsed.Round(time.Millisecond), r.phases)
	fmt.Printf("  state transitions: %d, %.0f per second\n", r.transitions, tps)
	fmt.Printf("  time per state under that load: median %v (p95 %v); the last execution started %v after the first\n",
		median(r.loadedPerState).Round(time.Millisecond), quantile(r.loadedPerState, 0.95).Round(time.Millisecond), r.firstToLastStart.Round(time.Millisecond))
	total := 0
	keys := make([]string, 0, len(r.writes))
	for k, v := range r.writes {
		total += v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Printf("  controller writes: %d, %.2f per transition:", total, float64(total)/float64(r.transitions))
	for _, k := range keys {
		fmt.Printf(" %s %d;", k, r.writes[k])
	}
	fmt.Println()
	if len(r.errs) > 0 {
		fmt.Printf("  failed writes: %v\n", r.errs)
	}
	for _, writes := range []bool{true, false} {
		var api float64
		keys = keys[:0]
		for k, v := range r.apiRequests {
			if mutating(k) == writes {
				api += v
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		kind := "mutating requests"
		if !writes {
			kind = "reads (GET, LIST)"
		}
		fmt.Printf("  API server %s (apiserver_request_total): %.0f, %.2f per transition:", kind, api, api/float64(r.transitions))
		for _, k := range keys {
			fmt.Printf(" %s %.0f;", k, r.apiRequests[k])
		}
		fmt.Println()
	}
	// Executions do not write their revision (a finalizer and an index over status.revision
	// keep it): it keeps the owner reference of its StateMachine, its size and its version.
	fmt.Printf("  StateMachineRevision at the end: %d owner references, %d bytes of JSON, written during the run: %v\n",
		r.revisionOwners, r.revisionBytes, r.revisionWritten)
	fmt.Printf("  Execution status writes: latency median %v (p90 %v); an ended Execution is %d bytes of JSON (median)\n",
		median(r.writeLatency).Round(100*time.Microsecond), quantile(r.writeLatency, 0.9).Round(100*time.Microsecond), medianInt(r.objectBytes))
	fmt.Printf("  history chunks sealed: %d (%.2f per transition)\n", r.chunks, float64(r.chunks)/float64(r.transitions))
	if len(r.cpu) > 0 {
		fmt.Printf("  CPU during the run:")
		for _, k := range []string{"kube-apiserver", "etcd", "bench (controller)"} {
			fmt.Printf(" %s %.1f s (%.0f%% of a core);", k, r.cpu[k].Seconds(), 100*r.cpu[k].Seconds()/r.elapsed.Seconds())
		}
		fmt.Println()
		perTransition := r.cpu["kube-apiserver"] / time.Duration(max(r.transitions, 1))
		fmt.Printf("  kube-apiserver CPU per transition %v, %.2f times that of a ceiling patch (%v): the ratio the API server's CPU allows is %.0f%%\n",
			perTransition.Round(10*time.Microsecond), float64(perTransition)/float64(ceilingCPU), ceilingCPU.Round(10*time.Microsecond), 100*float64(ceilingCPU)/float64(perTransition))
	}
	if r.cpuProfile != "" {
		fmt.Printf("  controller CPU profile: %s (go tool pprof -top %s)\n", r.cpuProfile, r.cpuProfile)
	}
	if r.apiProfile != "" {
		fmt.Printf("  kube-apiserver CPU profile (20 s): %s\n", r.apiProfile)
	}
	ratio := tps / ceiling
	fmt.Printf("result: %.0f transitions/s against a ceiling of %.0f status patches/s (mean of before and after): %.0f%% of the ceiling (target >= 70%%); median per state %v alone, %v under load (target < 10 ms)\n",
		tps, ceiling, 100*ratio, median(r.alonePerState).Round(10*time.Microsecond), median(r.loadedPerState).Round(time.Millisecond))
}

// --- helpers ---

func namespace(ctx context.Context, c client.Client, prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix}}
	if err := c.Create(ctx, ns); err != nil {
		return "", err
	}
	return ns.Name, nil
}

func waitValid(ctx context.Context, c client.Client, sm *kstatesv1alpha1.StateMachine) error {
	for {
		if err := c.Get(ctx, client.ObjectKeyFromObject(sm), sm); err != nil {
			return err
		}
		if v := meta.FindStatusCondition(sm.Status.Conditions, kstatesv1alpha1.ConditionValid); v != nil && sm.Status.CurrentRevision != "" {
			if v.Status != metav1.ConditionTrue {
				return fmt.Errorf("the state machine is not valid: %s", v.Message)
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running is a started manager with both reconcilers on a counting client.
type running struct {
	mgr    ctrl.Manager
	cc     *counting
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startManager(ctx context.Context, cfg *rest.Config, ns string, workers, steps int) (*running, error) {
	mgr, err := ctrl.NewManager(cfg, testenv.ManagerOptions(scheme, ns, workers))
	if err != nil {
		return nil, err
	}
	cc := &counting{Client: mgr.GetClient(), writes: map[string]int{}, errs: map[string]int{}}
	if err := (&controllers.StateMachineReconciler{Client: cc}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	if err := (&controllers.ExecutionReconciler{Client: cc, APIReader: mgr.GetAPIReader(),
		Recorder: mgr.GetEventRecorder("kstates-execution"), StepsPerReconcile: steps}).SetupWithManager(mgr); err != nil {
		return nil, err
	}
	mctx, cancel := context.WithCancel(ctx)
	r := &running{mgr: mgr, cc: cc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- mgr.Start(mctx) }()
	return r, nil
}

// stop stops the manager and waits for it (idempotent).
func (r *running) stop() {
	r.once.Do(func() {
		r.cancel()
		<-r.done
	})
}
