package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
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
	"github.com/kstates/kstates/internal/cli"
)

// TestCallbackOnCluster runs a .waitForTaskToken task on the real cluster with the operator's
// reconcilers in this process: the task pod (testtask echo) runs on the kubelet and exits 0,
// the execution keeps waiting, and `kstates send-task-success` with the token from the pod's
// environment completes it.
func TestCallbackOnCluster(t *testing.T) {
	t.Parallel()
	cs, ns := cluster(t)
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KSTATES_E2E_KUBECONFIG"))
	if err != nil {
		t.Fatal(err)
	}
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
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	installCRDs(ctx, t, c)
	startOperator(ctx, t, cfg, scheme, cs, ns)

	sm := &kstatesv1alpha1.StateMachine{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "approve"}}
	sm.Spec.DefinitionString = `{"StartAt":"Approve","States":{"Approve":{"Type":"Task","Resource":"kstates:pod.waitForTaskToken",
		"Parameters":{"Image":"` + image("testtask") + `","ImagePullPolicy":"Never","Args":["echo"],"Input":{"ignored":true}},
		"HeartbeatSeconds":120,"ResultPath":"$.approval","End":true}}}`
	exec := &kstatesv1alpha1.Execution{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "approve-1"}}
	exec.Spec.StateMachineName, exec.Spec.Input = "approve", `{"order":7}`
	for _, o := range []client.Object{sm, exec} {
		if err := c.Create(ctx, o); err != nil {
			t.Fatalf("creating %s: %v", o.GetName(), err)
		}
	}

	// The pod runs and exits 0; the task keeps waiting.
	var pod *corev1.Pod
	poll(ctx, t, "the task pod to succeed", func() bool {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kstatesv1alpha1.LabelExecutionUID})
		if err != nil || len(pods.Items) == 0 {
			return false
		}
		pod = &pods.Items[0]
		return pod.Status.Phase == corev1.PodSucceeded
	})
	token := ""
	for _, env := range pod.Spec.Containers[0].Env {
		if env.Name == "KSTATES_TASK_TOKEN" {
			token = env.Value
		}
	}
	if token == "" {
		t.Fatal("the task pod has no KSTATES_TASK_TOKEN")
	}
	time.Sleep(2 * time.Second)
	if err := c.Get(ctx, client.ObjectKeyFromObject(exec), exec); err != nil {
		t.Fatal(err)
	}
	if exec.Status.Phase != kstatesv1alpha1.ExecutionRunning || exec.Status.CurrentState != "Approve" {
		t.Fatalf("after the pod's exit 0: %s in %q, want Running in Approve", exec.Status.Phase, exec.Status.CurrentState)
	}

	// The CLI answers; the namespace comes from the token.
	cli.RESTConfig = func() (*rest.Config, string, error) { return cfg, "default", nil }
	defer func() { cli.RESTConfig = nil }()
	var out, errb bytes.Buffer
	code := cli.Dispatch(&cli.Env{Prog: "kstates", Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Ctx: ctx},
		[]string{"send-task-success", "--token", token, "--output", `{"approved":true}`})
	if code != 0 {
		t.Fatalf("send-task-success: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	poll(ctx, t, "the execution to succeed", func() bool {
		return c.Get(ctx, client.ObjectKeyFromObject(exec), exec) == nil && exec.Status.Phase.IsFinal()
	})
	if exec.Status.Phase != kstatesv1alpha1.ExecutionSucceeded || !strings.Contains(strings.ReplaceAll(exec.Status.Output, " ", ""), `"approval":{"approved":true}`) {
		t.Fatalf("execution %s, output %s, error %s %s", exec.Status.Phase, exec.Status.Output, exec.Status.Error, exec.Status.Cause)
	}
}

// installCRDs creates or updates the kstates.io CRDs from config/crd/bases and waits until
// they are established.
func installCRDs(ctx context.Context, t *testing.T, c client.Client) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs in config/crd/bases: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(b, crd); err != nil {
			t.Fatalf("%s: %v", f, err)
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
			t.Fatalf("installing %s: %v", crd.Name, err)
		}
		poll(ctx, t, crd.Name+" to be established", func() bool {
			got := &apiextensionsv1.CustomResourceDefinition{}
			if c.Get(ctx, client.ObjectKeyFromObject(crd), got) != nil {
				return false
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return true
				}
			}
			return false
		})
	}
}

// startOperator runs the StateMachine and Execution reconcilers in this process, watching ns.
func startOperator(ctx context.Context, t *testing.T, cfg *rest.Config, scheme *runtime.Scheme, cs kubernetes.Interface, ns string) {
	t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0",
		Cache:      cache.Options{DefaultNamespaces: map[string]cache.Config{ns: {}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.StateMachineReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	if err := (&controllers.ExecutionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(),
		Logs: controllers.PodLogs{Clientset: cs}}).SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
}

// poll waits for cond, checking every 200 ms.
func poll(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
