package taskkit

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Heartbeats: a task whose state has HeartbeatSeconds receives a token ($KSTATES_TASK_TOKEN,
// Task.TaskToken) and must send a heartbeat within every HeartbeatSeconds, or its attempt
// ends with States.HeartbeatTimeout and its pod is deleted. A heartbeat is a TaskCallback
// {token, heartbeat: true} created in the execution's namespace (what `kstates
// send-task-heartbeat` does); the pod's service account needs RBAC `create` on
// `taskcallbacks` there (config/rbac/taskcallback_sender_role.yaml). These helpers create
// it through the API server the way in-cluster clients do, with no Kubernetes client library.

// serviceAccountDir holds the pod's service account token and CA.
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount/"

// Heartbeater sends heartbeats for one task token.
type Heartbeater struct {
	// Token is the task token.
	Token string
	// URL is the API server's base URL (https://host:port).
	URL string
	// BearerToken authenticates the pod (its service account token, read on each call:
	// the kubelet rotates it).
	BearerToken func() (string, error)
	// Client sends the requests.
	Client *http.Client
}

// NewHeartbeater prepares heartbeats for the task's token from the pod's in-cluster
// environment ($KUBERNETES_SERVICE_HOST/PORT, the service account's CA and token).
func (t *Task) NewHeartbeater() (*Heartbeater, error) {
	if t.TaskToken == "" {
		return nil, errors.New("the task has no token ($" + EnvTaskToken + "): its state has no HeartbeatSeconds and does not wait for a callback")
	}
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil, errors.New("not in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
	}
	ca, err := os.ReadFile(serviceAccountDir + "ca.crt")
	if err != nil {
		return nil, fmt.Errorf("reading the service account's CA (is automountServiceAccountToken off?): %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &Heartbeater{
		Token: t.TaskToken,
		URL:   "https://" + net.JoinHostPort(host, port),
		BearerToken: func() (string, error) {
			b, err := os.ReadFile(serviceAccountDir + "token")
			return strings.TrimSpace(string(b)), err
		},
		Client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}, nil
}

// tokenNamespace is the namespace a kstates task token names (its first part).
func tokenNamespace(token string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("the task token is not a kstates token: %w", err)
	}
	ns, _, ok := strings.Cut(string(b), "/")
	if !ok || ns == "" {
		return "", errors.New("the task token is not a kstates token")
	}
	return ns, nil
}

// Send creates one heartbeat TaskCallback. An error names the API server's answer (a 403
// means the pod's service account may not create taskcallbacks).
func (h *Heartbeater) Send(ctx context.Context) error {
	ns, err := tokenNamespace(h.Token)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]any{
		"apiVersion": "kstates.io/v1alpha1", "kind": "TaskCallback",
		"metadata": map[string]any{"generateName": "heartbeat-"},
		"spec":     map[string]any{"token": h.Token, "heartbeat": true},
	})
	url := h.URL + "/apis/kstates.io/v1alpha1/namespaces/" + ns + "/taskcallbacks"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	bearer, err := h.BearerToken()
	if err != nil {
		return fmt.Errorf("reading the service account token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.Client.Do(req)
	if err != nil {
		return fmt.Errorf("sending a heartbeat: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("sending a heartbeat: POST %s: HTTP %d: %s", url, resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// KeepAlive sends a heartbeat now and then every interval until ctx is done (choose an
// interval well under the state's HeartbeatSeconds). Failures are passed to onError (nil:
// written to stderr) and do not stop it: the next one may succeed.
func (h *Heartbeater) KeepAlive(ctx context.Context, interval time.Duration, onError func(error)) {
	if onError == nil {
		onError = func(err error) { fmt.Fprintln(os.Stderr, "taskkit:", err) }
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := h.Send(ctx); err != nil && ctx.Err() == nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
