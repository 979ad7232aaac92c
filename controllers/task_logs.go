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

// Tail implements TaskLogs.
func (p PodLogs) Tail(ctx context.Context, namespace, pod, container string, limit int64) (string, error) {
	req := p.Clientset.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container: container, TailLines: ptr.To[int64](2), LimitBytes: ptr.To(limit),
	})
	rc, err := req.Stream(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit))
	return string(b), err
}
