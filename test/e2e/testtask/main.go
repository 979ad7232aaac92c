// Command testtask is a task container for end-to-end tests (image kstates.local/testtask:dev):
// its first argument names what it does with its input (internal/taskkit's contract).
//
//	testtask echo      the output is the input
//	testtask fail      the named error {"Error": input.error, "Cause": input.cause}
//	testtask sleep     sleeps input.seconds (a number), then outputs the input
//	testtask output    outputs {"data": "xxx..."} of input.bytes bytes (large outputs go to stdout)
//	testtask exit      exits with input.code and no message (States.TaskFailed)
//	testtask env       outputs the KSTATES_* environment (token, attempt, state, ...)
//	testtask heartbeat sends a heartbeat every input.every seconds for input.seconds, then
//	                   outputs the input (a task with HeartbeatSeconds)
//	testtask oom       allocates input.mib MiB and touches it (an OOM kill under a smaller limit)
//	testtask apiserver GETs /version from the API server the way in-cluster clients do
//	                   ($KUBERNETES_SERVICE_HOST:PORT, the service account's CA and token)
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/taskkit"
)

var tasks = map[string]taskkit.Handler{
	"echo": func(t *taskkit.Task) (any, error) { return t.Input, nil },
	"fail": func(t *taskkit.Task) (any, error) {
		var in struct{ Error, Cause string }
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		if in.Error == "" {
			in.Error = "TestError"
		}
		return nil, &taskkit.Error{Name: in.Error, Cause: in.Cause}
	},
	"sleep": func(t *taskkit.Task) (any, error) {
		var in struct{ Seconds float64 }
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(in.Seconds * float64(time.Second)))
		return t.Input, nil
	},
	"output": func(t *taskkit.Task) (any, error) {
		var in struct{ Bytes int }
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		return map[string]string{"data": strings.Repeat("x", max(0, in.Bytes-len(`{"data":""}`)))}, nil
	},
	"exit": func(t *taskkit.Task) (any, error) {
		var in struct{ Code int }
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		fmt.Fprintf(os.Stderr, "exiting with %d\n", in.Code)
		os.Exit(in.Code)
		return nil, nil
	},
	"env": func(t *taskkit.Task) (any, error) {
		out := map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "KSTATES_") {
				out[k] = v
			}
		}
		return out, nil
	},
	"apiserver": apiserver,
	"heartbeat": func(t *taskkit.Task) (any, error) {
		var in struct{ Seconds, Every float64 }
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		h, err := t.NewHeartbeater()
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(in.Seconds*float64(time.Second)))
		defer cancel()
		failed := 0
		h.KeepAlive(ctx, time.Duration(in.Every*float64(time.Second)), func(err error) {
			failed++
			t.Logf("%v", err)
		})
		if failed > 0 {
			return nil, &taskkit.Error{Name: "HeartbeatRefused", Cause: fmt.Sprintf("%d heartbeats failed", failed)}
		}
		return t.Input, nil
	},
	"oom": func(t *taskkit.Task) (any, error) {
		var in struct{ MiB int }
		if err := t.Decode(&in); err != nil {
			return nil, err
		}
		var keep [][]byte
		for i := 0; i < in.MiB; i++ {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			keep = append(keep, b)
		}
		return map[string]int{"allocated": len(keep)}, nil
	},
}

// apiserver checks that the pod reaches the API server as rest.InClusterConfig would.
func apiserver(*taskkit.Task) (any, error) {
	const sa = "/var/run/secrets/kubernetes.io/serviceaccount/"
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	ca, err := os.ReadFile(sa + "ca.crt")
	if err != nil {
		return nil, err
	}
	token, err := os.ReadFile(sa + "token")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	url := "https://" + net.JoinHostPort(host, port) + "/version"
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	resp, err := c.Do(req)
	if err != nil {
		return nil, &taskkit.Error{Name: "APIServerUnreachable", Cause: err.Error()}
	}
	defer resp.Body.Close()
	var v struct {
		GitVersion string `json:"gitVersion"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode != http.StatusOK {
		return nil, &taskkit.Error{Name: "APIServerUnreachable", Cause: fmt.Sprintf("GET %s: HTTP %d (%v)", url, resp.StatusCode, err)}
	}
	return map[string]string{"url": url, "gitVersion": v.GitVersion}, nil
}

func main() {
	if len(os.Args) < 2 || tasks[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: testtask echo|fail|sleep|output|exit|env|apiserver|heartbeat|oom")
		os.Exit(2)
	}
	taskkit.Main(tasks[os.Args[1]])
}
