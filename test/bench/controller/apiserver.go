package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// apiserverRequests reads apiserver_request_total from the API server's /metrics and sums the
// requests by verb and resource: the mutating ones (POST, PUT, PATCH, DELETE, APPLY) and the
// reads (GET, LIST), not the long-running WATCHes.
func apiserverRequests(ctx context.Context, cfg *rest.Config) (map[string]float64, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	b, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		i := strings.LastIndexByte(line, '}')
		labels, val := line[len("apiserver_request_total{"):i], strings.TrimSpace(line[i+1:])
		l := map[string]string{}
		for _, kv := range strings.Split(labels, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				l[k] = strings.Trim(v, `"`)
			}
		}
		switch l["verb"] {
		case "POST", "PUT", "PATCH", "DELETE", "APPLY", "GET", "LIST":
		default:
			continue
		}
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			continue
		}
		key := l["verb"] + " " + l["resource"]
		if l["subresource"] != "" {
			key += "/" + l["subresource"]
		}
		out[key] += f
	}
	return out, sc.Err()
}

// apiserverProfile fetches kube-apiserver's CPU profile of the next seconds.
func apiserverProfile(ctx context.Context, cfg *rest.Config, seconds int) ([]byte, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c, cancel := context.WithTimeout(ctx, time.Duration(seconds+30)*time.Second)
	defer cancel()
	return cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(seconds)).DoRaw(c)
}

// childCPU is the CPU time (user + system) of this process and of its kube-apiserver and
// etcd children, from /proc (Linux; empty elsewhere).
func childCPU() map[string]time.Duration {
	out := map[string]time.Duration{}
	self := os.Getpid()
	tick := 100.0 // USER_HZ on Linux
	read := func(pid string) (comm string, ppid int, cpu time.Duration, ok bool) {
		b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
		if err != nil {
			return "", 0, 0, false
		}
		s := string(b)
		l, r := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if l < 0 || r < 0 {
			return "", 0, 0, false
		}
		comm = s[l+1 : r]
		f := strings.Fields(s[r+2:])
		if len(f) < 13 {
			return "", 0, 0, false
		}
		ppid, _ = strconv.Atoi(f[1])
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		return comm, ppid, time.Duration((ut + st) / tick * float64(time.Second)), true
	}
	if _, _, cpu, ok := read(strconv.Itoa(self)); ok {
		out["bench (controller)"] = cpu
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		comm, ppid, cpu, ok := read(e.Name())
		if !ok || ppid != self {
			continue
		}
		switch {
		case strings.HasPrefix(comm, "kube-apiserver"):
			out["kube-apiserver"] += cpu
		case strings.HasPrefix(comm, "etcd"):
			out["etcd"] += cpu
		}
	}
	return out
}

// mutating reports whether a key of apiserverRequests is a write.
func mutating(key string) bool {
	verb, _, _ := strings.Cut(key, " ")
	return verb != "GET" && verb != "LIST"
}
