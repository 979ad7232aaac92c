package podtask

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Error names of an attempt that Kubernetes, not the task's container, ended. Each is
// distinct so that Retry and Catch can match it (States.ALL matches all of them, and
// States.TaskFailed stays the name of other task failures). docs/operator.md lists them.
const (
	// ErrImagePullFailed: the container's image cannot be pulled: at once for a sign that
	// cannot resolve itself (InvalidImageName, ErrImageNeverPull), else after the pull has
	// failed (ErrImagePull, ImagePullBackOff) for ImagePullTimeout since the pod's creation.
	ErrImagePullFailed = "kstates.ImagePullFailed"
	// ErrUnschedulable: the scheduler could not place the pod (PodScheduled=False, reason
	// Unschedulable) for UnschedulableTimeout.
	ErrUnschedulable = "kstates.Unschedulable"
	// ErrPodEvicted: the kubelet evicted the pod (status.reason Evicted, node pressure), or the
	// pod was deleted for a disruption (Eviction API, preemption, taint manager, kubelet
	// shutdown), which its DisruptionTarget condition says.
	ErrPodEvicted = "kstates.PodEvicted"
	// ErrPodDeleted: the pod of a running attempt was deleted by someone else (kstates deletes
	// only pods no running task wants), or disappeared.
	ErrPodDeleted = "kstates.PodDeleted"
	// ErrOOMKilled: the container was killed for exceeding its memory limit (terminated
	// reason OOMKilled).
	ErrOOMKilled = "kstates.OOMKilled"
	// ErrJobDeleted: the Job of a running Job task was deleted by someone else.
	ErrJobDeleted = "kstates.JobDeleted"
)

// Default bounds of the waits that may resolve themselves (a registry that comes back, a node
// that joins): an attempt stuck longer ends with ErrImagePullFailed / ErrUnschedulable.
const (
	DefaultImagePullTimeout     = 2 * time.Minute
	DefaultUnschedulableTimeout = 5 * time.Minute
)

// StuckPolicy bounds how long a pod may wait before it is started.
type StuckPolicy struct {
	// ImagePullTimeout is how long after the pod's creation a failing pull (ErrImagePull,
	// ImagePullBackOff) ends the attempt.
	ImagePullTimeout time.Duration
	// UnschedulableTimeout is how long the pod may be unschedulable (from its PodScheduled
	// condition's last transition).
	UnschedulableTimeout time.Duration
}

// permanentPull are the kubelet's reasons for a container that can never start without a
// change to the pod; transientPull may resolve themselves (and are bounded).
var (
	permanentPull = map[string]bool{"InvalidImageName": true, "ErrImageNeverPull": true}
	transientPull = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true}
)

// Stuck reports a pod that has not started and will not start in time: its result (an
// ErrImagePullFailed or ErrUnschedulable failure), or, while it may still start, how long
// until it would be stuck (0: nothing to wait for).
func Stuck(pod *corev1.Pod, now time.Time, p StuckPolicy) (*Result, time.Duration) {
	var wait time.Duration
	later := func(at time.Time) {
		if d := at.Sub(now); d > 0 && (wait == 0 || d < wait) {
			wait = d
		}
	}
	for i := range pod.Status.ContainerStatuses {
		cs := &pod.Status.ContainerStatuses[i]
		w := cs.State.Waiting
		if cs.Name != ContainerName || w == nil {
			continue
		}
		cause := fmt.Sprintf("the image %s of task pod %s cannot be pulled: %s: %s", pod.Spec.Containers[0].Image, pod.Name, w.Reason, w.Message)
		switch {
		case permanentPull[w.Reason]:
			return &Result{Error: ErrImagePullFailed, Cause: cause}, 0
		case transientPull[w.Reason]:
			at := pod.CreationTimestamp.Add(p.ImagePullTimeout)
			if !now.Before(at) {
				return &Result{Error: ErrImagePullFailed, Cause: fmt.Sprintf("%s (for %s)", cause, p.ImagePullTimeout)}, 0
			}
			later(at)
		}
	}
	for _, c := range pod.Status.Conditions {
		if c.Type != corev1.PodScheduled || c.Status != corev1.ConditionFalse || c.Reason != corev1.PodReasonUnschedulable {
			continue
		}
		at := c.LastTransitionTime.Add(p.UnschedulableTimeout)
		if !now.Before(at) {
			return &Result{Error: ErrUnschedulable, Cause: fmt.Sprintf("task pod %s could not be scheduled for %s: %s", pod.Name, p.UnschedulableTimeout, c.Message)}, 0
		}
		later(at)
	}
	return nil, wait
}

// disruptionReasons are the DisruptionTarget condition's reasons that mean an eviction.
var disruptionReasons = map[string]bool{
	"EvictionByEvictionAPI": true, "PreemptionByScheduler": true, "DeletionByTaintManager": true,
	"TerminationByKubelet": true,
}

// Deleted is the result of a task pod that is being deleted before it succeeded: an eviction
// when its DisruptionTarget condition says so, else ErrPodDeleted.
func Deleted(pod *corev1.Pod) *Result {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && disruptionReasons[c.Reason] {
			return &Result{Error: ErrPodEvicted, Cause: strings.TrimSpace(fmt.Sprintf("task pod %s was evicted: %s: %s", pod.Name, c.Reason, c.Message))}
		}
	}
	return &Result{Error: ErrPodDeleted, Cause: fmt.Sprintf("task pod %s was deleted while its task ran (not by kstates)", pod.Name)}
}
