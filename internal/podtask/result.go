package podtask

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/kstates/kstates/internal/engine/value"
)

// Error names of task failures that are not the container's own.
const ErrTaskFailed = "States.TaskFailed"

// Result is the outcome of a finished task pod.
type Result struct {
	// Output is the task's output (value model) when Error is empty.
	Output any
	// Error and Cause are a named error ({"Error","Cause"} with a non-zero exit) or
	// States.TaskFailed.
	Error string
	Cause string
	// Duration is how long the container ran, when the pod says.
	Duration time.Duration
	// OutputOnStdout is set when the container exited 0 without a termination message: its
	// output, if any, is the last line it printed (OutputFromLog); Output is {} until then.
	OutputOnStdout bool
}

// MaxLogOutputBytes is how much of a task's log the controller reads for an output printed on
// stdout: AWS's 256 KiB payload limit and some room for the line's framing.
const MaxLogOutputBytes = 256*1024 + 4096

// OutputFromLog reads the output a task printed as the last line of its log (the contract for
// outputs larger than a termination message holds). A log whose last line is not JSON, or an
// empty log, means the task returned nothing: {}.
func OutputFromLog(log string) any {
	lines := strings.Split(strings.TrimRight(log, "\r\n"), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return map[string]any{}
	}
	v, err := value.ParseString(last)
	if err != nil {
		return map[string]any{}
	}
	return v
}

// Finished reads a task pod as a kubelet left it. It returns nil while the task runs.
func Finished(pod *corev1.Pod) *Result {
	if pod.Status.Reason == "Evicted" {
		// Node-pressure eviction: the pod failed, whatever its container's status says.
		return &Result{Error: ErrPodEvicted, Cause: strings.TrimSpace(fmt.Sprintf("task pod %s was evicted: %s", pod.Name, pod.Status.Message))}
	}
	for i := range pod.Status.ContainerStatuses {
		cs := &pod.Status.ContainerStatuses[i]
		if cs.Name != ContainerName || cs.State.Terminated == nil {
			continue
		}
		term := cs.State.Terminated
		r := fromTermination(term.ExitCode, term.Message, term.Reason)
		if term.Reason == "OOMKilled" && term.ExitCode != 0 {
			r = &Result{Error: ErrOOMKilled, Cause: fmt.Sprintf("the task container of pod %s was killed for using more memory than allowed (%s; exit code %d)",
				pod.Name, memoryLimit(pod), term.ExitCode)}
		}
		if !term.StartedAt.IsZero() && !term.FinishedAt.IsZero() {
			r.Duration = term.FinishedAt.Sub(term.StartedAt.Time)
		}
		return r
	}
	for i := range pod.Status.ContainerStatuses {
		cs := &pod.Status.ContainerStatuses[i]
		if w := cs.State.Waiting; cs.Name == ContainerName && w != nil && permanentPull[w.Reason] {
			return &Result{Error: ErrImagePullFailed, Cause: fmt.Sprintf("the image %s of task pod %s cannot be pulled: %s: %s", cs.Image, pod.Name, w.Reason, w.Message)}
		}
	}
	switch pod.Status.Phase {
	case corev1.PodFailed:
		cause := "the task pod failed"
		if pod.Status.Reason != "" || pod.Status.Message != "" {
			cause += ": " + strings.TrimSpace(pod.Status.Reason+" "+pod.Status.Message)
		}
		return &Result{Error: ErrTaskFailed, Cause: cause}
	case corev1.PodSucceeded:
		return &Result{Error: ErrTaskFailed, Cause: "the task pod succeeded without a status for its container " + ContainerName}
	}
	return nil
}

// memoryLimit is the task container's memory limit, for a cause.
func memoryLimit(pod *corev1.Pod) string {
	for _, c := range pod.Spec.Containers {
		if q, ok := c.Resources.Limits[corev1.ResourceMemory]; c.Name == ContainerName && ok {
			return "limit " + q.String()
		}
	}
	return "no limit set: the node's memory"
}

// fromTermination applies the contract to a terminated container.
func fromTermination(code int32, message, reason string) *Result {
	msg := strings.TrimSpace(message)
	if code == 0 {
		if msg == "" {
			return &Result{Output: map[string]any{}, OutputOnStdout: true}
		}
		v, err := value.ParseString(msg)
		if err != nil {
			return &Result{Error: ErrTaskFailed, Cause: fmt.Sprintf("the task exited 0 but its termination message (%s) is not JSON: %v", TerminationMessagePath, err)}
		}
		return &Result{Output: v}
	}
	if msg != "" {
		if v, err := value.ParseString(msg); err == nil {
			if obj, ok := v.(map[string]any); ok {
				if name, ok := obj["Error"].(string); ok && name != "" {
					cause := ""
					switch c := obj["Cause"].(type) {
					case nil:
					case string:
						cause = c
					default:
						cause = value.MarshalString(c)
					}
					return &Result{Error: name, Cause: cause}
				}
			}
		}
	}
	cause := fmt.Sprintf("the task container exited with code %d", code)
	if reason != "" && reason != "Error" {
		cause += " (" + reason + ")"
	}
	if msg != "" {
		cause += ": " + msg
	}
	return &Result{Error: ErrTaskFailed, Cause: cause}
}
