package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TaskCallbackSpec answers a .waitForTaskToken task: exactly one of success, failure and
// heartbeat. It is the Kubernetes form of Step Functions' SendTaskSuccess, SendTaskFailure
// and SendTaskHeartbeat; the permission to create TaskCallbacks in the execution's
// namespace is the permission to resume its tasks.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a TaskCallback is immutable"
// +kubebuilder:validation:XValidation:rule="(has(self.success) ? 1 : 0) + (has(self.failure) ? 1 : 0) + (has(self.heartbeat) && self.heartbeat ? 1 : 0) == 1",message="exactly one of success, failure and heartbeat must be set"
type TaskCallbackSpec struct {
	// token is the task token ($$.Task.Token, or KSTATES_TASK_TOKEN in a task pod).
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Token string `json:"token"`

	// success completes the task with an output.
	// +optional
	Success *TaskCallbackSuccess `json:"success,omitempty"`

	// failure fails the task with an error and a cause.
	// +optional
	Failure *TaskCallbackFailure `json:"failure,omitempty"`

	// heartbeat reports that the task is alive (extends its HeartbeatSeconds deadline).
	// +optional
	Heartbeat bool `json:"heartbeat,omitempty"`
}

// TaskCallbackSuccess is the output of a task that succeeded.
type TaskCallbackSuccess struct {
	// output is the task's output as JSON text, at most 256 KiB.
	// +required
	// +kubebuilder:validation:MaxLength=262144
	Output string `json:"output"`
}

// TaskCallbackFailure is the error of a task that failed.
type TaskCallbackFailure struct {
	// error is the error name (Catch and Retry match it); States.TaskFailed when empty.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Error string `json:"error,omitempty"`

	// cause is a human-readable description.
	// +optional
	// +kubebuilder:validation:MaxLength=32768
	Cause string `json:"cause,omitempty"`
}

// TaskCallbackPhase says what the controller did with a callback.
// +kubebuilder:validation:Enum=Accepted;Rejected
type TaskCallbackPhase string

// TaskCallback phases.
const (
	TaskCallbackAccepted TaskCallbackPhase = "Accepted"
	TaskCallbackRejected TaskCallbackPhase = "Rejected"
)

// Reasons a TaskCallback is rejected.
const (
	// CallbackInvalidToken: the token is malformed, belongs to another namespace, or names
	// an execution that does not exist (AWS's InvalidToken).
	CallbackInvalidToken = "InvalidToken"
	// CallbackTaskNotRunning: the token is not the token of a task the execution waits for:
	// the task already finished (or timed out), or the token was never issued (AWS's
	// TaskTimedOut / TaskDoesNotExist).
	CallbackTaskNotRunning = "TaskNotRunning"
	// CallbackExecutionFinished: the execution has ended.
	CallbackExecutionFinished = "ExecutionFinished"
	// CallbackInvalidOutput: success.output is not JSON.
	CallbackInvalidOutput = "InvalidOutput"
)

// TaskCallbackStatus is the controller's answer.
type TaskCallbackStatus struct {
	// phase is Accepted or Rejected; empty while the callback waits to be processed.
	// +optional
	Phase TaskCallbackPhase `json:"phase,omitempty"`

	// reason says why a callback was rejected (InvalidToken, TaskNotRunning,
	// ExecutionFinished, InvalidOutput).
	// +optional
	Reason string `json:"reason,omitempty"`

	// message explains the outcome.
	// +optional
	Message string `json:"message,omitempty"`

	// executionName is the execution the token belongs to (set once the token is verified).
	// +optional
	ExecutionName string `json:"executionName,omitempty"`

	// processedTime is when the controller processed the callback; processed callbacks are
	// deleted some time later.
	// +optional
	ProcessedTime *metav1.Time `json:"processedTime,omitempty"`
}

// TaskCallback resumes a task waiting for a callback (.waitForTaskToken): created by
// `kstates send-task-success|send-task-failure|send-task-heartbeat` in the execution's
// namespace, processed once by the operator, and deleted a while after.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=kstates
// +kubebuilder:printcolumn:name="Execution",type=string,JSONPath=`.status.executionName`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type TaskCallback struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the answer.
	// +required
	Spec TaskCallbackSpec `json:"spec"`

	// status is the controller's answer to it.
	// +optional
	Status TaskCallbackStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// TaskCallbackList is a list of TaskCallbacks.
type TaskCallbackList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the TaskCallbacks.
	Items []TaskCallback `json:"items"`
}

func init() {
	SchemeBuilder.Register(&TaskCallback{}, &TaskCallbackList{})
}
