package envtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// kubectl runs the kubectl of KUBEBUILDER_ASSETS as a cluster admin.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	user, err := testEnv.AddUser(envtest.User{Name: "kstates-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl"), append([]string{"--kubeconfig", path}, args...)...)
	cmd.Dir = repoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// config/default installs (server-side apply of the kustomization), and the manager's service
// account gets what the controllers need and nothing more.
func TestDefaultDeploymentInstallsWithLeastPrivilege(t *testing.T) {
	ctx, _ := setup(t)
	kubectl(t, "apply", "--server-side", "--force-conflicts", "-k", "config/default")

	sa := "system:serviceaccount:kstates-system:kstates-controller-manager"
	cases := []struct {
		reason string
		attrs  authorizationv1.ResourceAttributes
		want   bool
	}{
		{"it writes execution status", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "patch", Group: "kstates.io", Resource: "executions", Subresource: "status"}, true},
		{"it watches state machines", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "watch", Group: "kstates.io", Resource: "statemachines"}, true},
		{"it creates history chunks", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "create", Group: "kstates.io", Resource: "historychunks"}, true},
		{"it creates task pods", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "create", Resource: "pods"}, true},
		{"it takes the leader lease in its own namespace", authorizationv1.ResourceAttributes{Namespace: "kstates-system", Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, true},
		{"it never writes a user's execution spec", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "update", Group: "kstates.io", Resource: "executions"}, false},
		{"it never rewrites a sealed history chunk", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "update", Group: "kstates.io", Resource: "historychunks"}, false},
		{"it cannot read secrets", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "get", Resource: "secrets"}, false},
		{"it cannot read configmaps", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "list", Resource: "configmaps"}, false},
		{"it cannot take leases in other namespaces", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "update", Group: "coordination.k8s.io", Resource: "leases"}, false},
		{"it cannot exec into pods", authorizationv1.ResourceAttributes{Namespace: "team-a", Verb: "create", Resource: "pods", Subresource: "exec"}, false},
	}
	for _, c := range cases {
		attrs := c.attrs
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: sa, ResourceAttributes: &attrs}}
		if err := k8sClient.Create(ctx, sar); err != nil {
			t.Fatal(err)
		}
		if sar.Status.Allowed != c.want {
			t.Errorf("%s: allowed=%v, want %v (%s)", c.reason, sar.Status.Allowed, c.want, sar.Status.Reason)
		}
	}
}
