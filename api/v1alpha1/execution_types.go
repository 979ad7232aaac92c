package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ExecutionSpec starts an execution. Only abort may be added after creation.
// +kubebuilder:validation:XValidation:rule="has(self.input) == has(oldSelf.input) && (!has(self.input) || self.input == oldSelf.input)",message="spec.input is immutable",fieldPath=".input"
// +kubebuilder:validation:XValidation:rule="has(self.revision) == has(oldSelf.revision) && (!has(self.revision) || self.revision == oldSelf.revision)",message="spec.revision is immutable",fieldPath=".revision"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.abort) || (has(self.abort) && self.abort == oldSelf.abort)",message="spec.abort cannot be changed or removed once set",fieldPath=".abort"
type ExecutionSpec struct {
	// stateMachineName is the name of the StateMachine, in the Execution's namespace, to run.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.stateMachineName is immutable"
	StateMachineName string `json:"stateMachineName"`

	// input is the execution's input as JSON text, as in AWS's StartExecution (write it as a
	// YAML block scalar: `input: |` followed by the JSON). Empty means {}. Text that is not
	// JSON fails this execution with States.Runtime; more than 256 KiB is rejected.
	// +optional
	// +kubebuilder:validation:MaxLength=262144
	Input string `json:"input,omitempty"`

	// revision pins the StateMachineRevision to run, by name. Empty means the state
	// machine's current revision at the time the execution starts; either way the execution
	// keeps that revision to its end (status.revision).
	// +optional
	// +kubebuilder:validation:MaxLength=253
	Revision string `json:"revision,omitempty"`

	// abort, once set, asks the controller to stop the execution: it ends Aborted with this
	// error and cause, its running task pods are deleted. It cannot be removed or changed.
	// +optional
	Abort *AbortRequest `json:"abort,omitempty"`
}

// AbortRequest is a user's request to stop an execution, as AWS's StopExecution.
type AbortRequest struct {
	// error is the error code recorded on the aborted execution.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Error string `json:"error,omitempty"`

	// cause is the human-readable cause recorded on the aborted execution.
	// +optional
	// +kubebuilder:validation:MaxLength=32768
	Cause string `json:"cause,omitempty"`
}

// ExecutionPhase is the lifecycle phase of an execution, with AWS's status names.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed;TimedOut;Aborted
type ExecutionPhase string

// Execution phases. Succeeded, Failed, TimedOut and Aborted are final.
const (
	ExecutionPending   ExecutionPhase = "Pending"
	ExecutionRunning   ExecutionPhase = "Running"
	ExecutionSucceeded ExecutionPhase = "Succeeded"
	ExecutionFailed    ExecutionPhase = "Failed"
	ExecutionTimedOut  ExecutionPhase = "TimedOut"
	ExecutionAborted   ExecutionPhase = "Aborted"
)

// IsFinal reports whether p is a phase an execution never leaves.
func (p ExecutionPhase) IsFinal() bool {
	switch p {
	case ExecutionSucceeded, ExecutionFailed, ExecutionTimedOut, ExecutionAborted:
		return true
	}
	return false
}

// ExecutionStatus is the progress of an execution. The controller commits it after every
// transition, so it is all a restarted controller needs to resume.
type ExecutionStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is Pending, Running, Succeeded, Failed, TimedOut or Aborted.
	// +optional
	Phase ExecutionPhase `json:"phase,omitempty"`

	// revision is the StateMachineRevision this execution runs, fixed when it starts.
	// +optional
	Revision string `json:"revision,omitempty"`

	// currentStates are the states being run now: one for a plain execution, several inside
	// Parallel branches and Map iterations (at most 64 listed).
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=64
	CurrentStates []string `json:"currentStates,omitempty"`

	// currentState is a one-line summary of currentStates for `kubectl get`, e.g. "Charge"
	// or "ProcessItems (12 running)".
	// +optional
	// +kubebuilder:validation:MaxLength=256
	CurrentState string `json:"currentState,omitempty"`

	// startTime is when the execution started (ExecutionStarted).
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`

	// stopTime is when the execution reached a final phase.
	// +optional
	StopTime *metav1.Time `json:"stopTime,omitempty"`

	// duration is how long the execution ran, from startTime to stopTime, or to the last
	// status write while it runs, e.g. "1m5.2s".
	// +optional
	// +kubebuilder:validation:MaxLength=64
	Duration string `json:"duration,omitempty"`

	// output is the output of a Succeeded execution as JSON text, when at most 16 KiB;
	// a larger output is in the Payload named by outputRef.
	// +optional
	// +kubebuilder:validation:MaxLength=16384
	Output string `json:"output,omitempty"`

	// outputRef names the Payload that holds an output larger than 16 KiB.
	// +optional
	OutputRef *PayloadReference `json:"outputRef,omitempty"`

	// error is the error name of a Failed, TimedOut or Aborted execution, e.g. States.Timeout.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	Error string `json:"error,omitempty"`

	// cause is the human-readable cause of the error.
	// +optional
	// +kubebuilder:validation:MaxLength=32768
	Cause string `json:"cause,omitempty"`

	// history is the execution's event history: the most recent events inline, older ones
	// sealed into HistoryChunks.
	// +optional
	History ExecutionHistory `json:"history,omitempty"`

	// engineState is the root document of the engine's serialisable execution state
	// (positions of every running thread, variables, retry counters, deadlines), opaque to
	// everyone but the controller: its large values and the chunks of a large Map's
	// iterations are Payloads of their own ("<prefix>-s<hash>") that it refers to by hash.
	// At most 16 KiB inline; a larger root is in the Payload named by engineStateRef.
	// +optional
	EngineState *JSONText `json:"engineState,omitempty"`

	// engineStateRef names the Payload holding a root document larger than 16 KiB.
	// +optional
	EngineStateRef *PayloadReference `json:"engineStateRef,omitempty"`

	// nextDeadline is the earliest time at which the execution must be looked at again
	// without any other change (a Wait, a Retry back-off, a state or execution timeout).
	// +optional
	NextDeadline *metav1.Time `json:"nextDeadline,omitempty"`

	// conditions describe the execution, e.g. why it is still Pending.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`
}

// Execution conditions and reasons.
const (
	// ConditionStateMachineResolved is True once the execution found its StateMachine and a
	// valid revision to run; False (the execution stays Pending) while it cannot.
	ConditionStateMachineResolved = "StateMachineResolved"
	// ReasonStateMachineNotFound: the named StateMachine does not exist.
	ReasonStateMachineNotFound = "StateMachineNotFound"
	// ReasonStateMachineInvalid: the StateMachine's definition is not valid.
	ReasonStateMachineInvalid = "StateMachineInvalid"
	// ReasonStateMachineNotValidated: the StateMachine exists but the StateMachine controller
	// has not validated its current generation yet (it was just created or edited).
	ReasonStateMachineNotValidated = "StateMachineNotValidated"
	// ReasonRevisionNotFound: the pinned revision does not exist.
	ReasonRevisionNotFound = "RevisionNotFound"
	// ReasonResolved: the revision to run is known.
	ReasonResolved = "Resolved"
)

// Execution is one run of a StateMachine. Create it to start the run; it is stopped by
// setting spec.abort.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=exec,categories=kstates
// +kubebuilder:printcolumn:name="StateMachine",type=string,JSONPath=`.spec.stateMachineName`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Current",type=string,JSONPath=`.status.currentState`
// +kubebuilder:printcolumn:name="Start",type=date,JSONPath=`.status.startTime`
// +kubebuilder:printcolumn:name="Duration",type=string,JSONPath=`.status.duration`
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.revision`,priority=1
// +kubebuilder:printcolumn:name="Error",type=string,JSONPath=`.status.error`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Execution struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec says what to run with which input.
	// +required
	Spec ExecutionSpec `json:"spec"`

	// status is the execution's progress and history.
	// +optional
	Status ExecutionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ExecutionList is a list of Executions.
type ExecutionList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the Executions.
	Items []Execution `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Execution{}, &ExecutionList{})
}
