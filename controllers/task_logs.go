package controllers

import (
	"context"
	"io"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// TaskLogs reads the end of a task container's log, where a task prints an output too large
// for its termination message (docs/operator.md, "Pod tasks").
type TaskLogs interface {
	// Tail returns at most limit bytes of the last lines of the container's log.
	Tail(ctx context.Context, namespace, pod, container string, limit int64) (string, error)
}

// TaskLogsFunc adapts a function to TaskLogs.
type TaskLogsFunc func(ctx context.Context, namespace, pod, container string, limit int64) (string, error)

// Tail implements TaskLogs.
func (f TaskLogsFunc) Tail(ctx context.Context, namespace, pod, container string, limit int64) (string, error) {
	return f(ctx, namespace, pod, container, limit)
}

// PodLogs reads task logs through the API server (pods/log, served by the node's kubelet).
type PodLogs struct{ Clientset kubernetes.Interface }

// criLogRecordBytes is the size at which container runtimes split a long log line into
// several records (containerd and CRI-O: 16 KiB). The kubelet's tailLines counts records, not
// lines, so an output printed as one long line spans up to limit/criLogRecordBytes records.
const criLogRecordBytes = 16 * 1024

// Tail implements TaskLogs. It asks for enough records to hold a line of limit bytes and keeps
// the last limit bytes of what comes back: a byte limit on the request would cut the end, which
// is where the output is.
func (p PodLogs) Tail(ctx context.Context, namespace, pod, container string, limit int64) (string, error) {
	req := p.Clientset.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: container, TailLines: ptr.To(limit/criLogRecordBytes + 2),
	})
	rc, err := req.Stream(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if int64(len(b)) > limit {
		b = b[int64(len(b))-limit:]
	}
	return string(b), err
}
