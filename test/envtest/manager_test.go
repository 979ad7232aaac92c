package envtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// freePort returns a TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// get polls url until it answers 200 or the context ends, and returns the body.
func get(ctx context.Context, t *testing.T, url string) string {
	t.Helper()
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(body)
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("GET %s: no 200 before the deadline (last error %v)", url, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// The manager binary starts against a real API server and serves its probes and metrics.
func TestManagerServesHealthAndMetrics(t *testing.T) {
	ctx, _ := setup(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "manager")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/manager")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/manager: %v\n%s", err, out)
	}
	user, err := testEnv.AddUser(envtest.User{Name: "kstates-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	kcPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kcPath, kubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}

	metrics, probes := freePort(t), freePort(t)
	cmd := exec.CommandContext(ctx, bin, "--kubeconfig", kcPath, "--metrics-secure=false",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metrics),
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probes))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("manager output:\n%s", logs.String())
		}
	}()

	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	get(wait, t, fmt.Sprintf("http://127.0.0.1:%d/healthz", probes))
	get(wait, t, fmt.Sprintf("http://127.0.0.1:%d/readyz", probes))
	body := get(wait, t, fmt.Sprintf("http://127.0.0.1:%d/metrics", metrics))
	if !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "process_start_time_seconds") ||
		!strings.Contains(body, "kstates_state_transitions_total") {
		t.Fatalf("metrics endpoint does not serve the runtime metrics:\n%.2000s", body)
	}
}
