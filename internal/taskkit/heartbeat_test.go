package taskkit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHeartbeaterCreatesATaskCallbackInTheTokensNamespace(t *testing.T) {
	token := base64.RawURLEncoding.EncodeToString([]byte("team-a/exec-1/" + strings.Repeat("ab", 32)))
	var gotPath, gotAuth string
	var gotBody map[string]any
	status := http.StatusCreated
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &gotBody)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"kind":"Status","message":"forbidden"}`))
	}))
	defer srv.Close()
	h := &Heartbeater{Token: token, URL: srv.URL, Client: srv.Client(), BearerToken: func() (string, error) { return "sa-token", nil }}
	if err := h.Send(context.Background()); err != nil {
		t.Fatal(err)
	}
	spec, _ := gotBody["spec"].(map[string]any)
	if gotPath != "/apis/kstates.io/v1alpha1/namespaces/team-a/taskcallbacks" || gotAuth != "Bearer sa-token" ||
		gotBody["kind"] != "TaskCallback" || spec["token"] != token || spec["heartbeat"] != true {
		t.Errorf("POST %s (%s): %v", gotPath, gotAuth, gotBody)
	}
	status = http.StatusForbidden
	if err := h.Send(context.Background()); err == nil || !strings.Contains(err.Error(), "HTTP 403") {
		t.Errorf("a refused heartbeat: %v", err)
	}
	h.Token = "not a token"
	if err := h.Send(context.Background()); err == nil {
		t.Error("a malformed token was sent")
	}
	if _, err := (&Task{}).NewHeartbeater(); err == nil || !strings.Contains(err.Error(), "no token") {
		t.Errorf("a task without a token: %v", err)
	}
}
