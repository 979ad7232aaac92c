package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StateMachineType is the execution type of a state machine, as in AWS Step Functions.
// +kubebuilder:validation:Enum=STANDARD;EXPRESS
type StateMachineType string

const (
	// StateMachineTypeStandard executions commit every transition to the Execution's status
	// and keep their full history: exactly-once, durable, resumable after a crash.
	StateMachineTypeStandard StateMachineType = "STANDARD"
	// StateMachineTypeExpress executions run in memory and record only their result
	// (at-least-once, as on AWS).
	StateMachineTypeExpress StateMachineType = "EXPRESS"
)

// StateMachineSpec is what a user writes: an ASL definition and how its tasks run.
// +kubebuilder:validation:XValidation:rule="has(self.definition) != has(self.definitionString)",message="exactly one of spec.definition and spec.definitionString must be set"
type StateMachineSpec struct {
	// definition is the Amazon States Language document written inline as YAML or JSON.
	// The API server keeps it as a JSON object: every key, value and string exactly as
	// written, with object keys in sorted order. Use definitionString to keep the text
	// byte for byte (comments, key order, formatting).
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:pruning:PreserveUnknownFields
	Definition *apiextensionsv1.JSON `json:"definition,omitempty"`

	// definitionString is the Amazon States Language document as JSON or YAML text, kept
	// byte for byte. Exactly one of definition and definitionString is set.
	// +optional
	// +kubebuilder:validation:MinLength=2
	// +kubebuilder:validation:MaxLength=1048576
	DefinitionString string `json:"definitionString,omitempty"`

	// type is the execution type: STANDARD (the default) commits every transition and keeps
	// the full history; EXPRESS runs in memory and records only the result.
	// +optional
	// +kubebuilder:default=STANDARD
	Type StateMachineType `json:"type,omitempty"`

	// bindings maps Task state Resource strings that are not built into kstates (an AWS
	// Lambda ARN from a definition written for AWS, for example) to the container that runs
	// them, so that an existing ASL document runs unchanged.
	// +optional
	// +listType=map
	// +listMapKey=resource
	// +kubebuilder:validation:MaxItems=256
	Bindings []TaskBinding `json:"bindings,omitempty"`

	// serviceAccountName is the service account that task pods run as. Empty means the
	// namespace's default service account.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// taskDefaults are pod settings applied to every task pod of this state machine.
	// +optional
	TaskDefaults *TaskPodDefaults `json:"taskDefaults,omitempty"`

	// roleArn is the IAM role of a state machine written for AWS, as CreateStateMachine takes
	// it. kstates assumes no role (what task pods may do is their service account's RBAC);
	// it only reports it, as AWS does: as $$.Execution.RoleArn in the context object and as
	// roleArn in each execution's ExecutionStarted event. Like the definition, it belongs to
	// the revision: changing it makes a new one.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	RoleArn string `json:"roleArn,omitempty"`
}

// TaskBinding binds a Task state's Resource string to a container template.
type TaskBinding struct {
	// resource is the Task state's Resource string exactly as written in the definition,
	// e.g. "arn:aws:lambda:us-east-1:123456789012:function:charge".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	Resource string `json:"resource"`

	// container is the container that runs the task. It receives the task's effective input
	// as a file and reports its output through its termination message (docs/operator.md).
	// +required
	Container TaskContainer `json:"container"`

	// job, when set, runs the container as the pod template of a batch/v1 Job instead of a
	// bare Pod: a resource ending in ".sync" waits for the Job to complete or fail, any other
	// starts it and goes on with {"JobName", "Namespace"}.
	// +optional
	Job *TaskBindingJob `json:"job,omitempty"`
}

// TaskBindingJob are the Job settings of a binding that runs as a Job.
type TaskBindingJob struct {
	// backoffLimit is the Job's backoffLimit: how many failed pods it retries (default 0).
	// +optional
	// +kubebuilder:validation:Minimum=0
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
}

// StateMachineStatus is what the StateMachine controller observed.
type StateMachineStatus struct {
	// observedGeneration is the metadata.generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions describe the state machine. "Valid" is True when the definition passed
	// validation; when False its message lists the located diagnostics.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// diagnostics are the validation findings of the current definition, each with a code
	// (as AWS's ValidateStateMachineDefinition reports them) and a location.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`

	// currentRevision is the name of the StateMachineRevision that new executions run.
	// It is set only when the definition is valid.
	// +optional
	CurrentRevision string `json:"currentRevision,omitempty"`

	// revisionCount is how many distinct revisions this state machine has had; the current
	// revision's spec.sequence.
	// +optional
	RevisionCount int64 `json:"revisionCount,omitempty"`
}

// Diagnostic is one validation finding in a definition.
type Diagnostic struct {
	// code names the finding, e.g. SCHEMA_VALIDATION_FAILED, MISSING_END_STATE,
	// DUPLICATE_STATE_NAME.
	// +required
	// +kubebuilder:validation:MaxLength=128
	Code string `json:"code"`

	// severity is ERROR (the definition cannot run) or WARNING.
	// +optional
	// +kubebuilder:validation:Enum=ERROR;WARNING
	Severity string `json:"severity,omitempty"`

	// location is a JSON pointer into the definition, e.g. "/States/Charge/Next".
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Location string `json:"location,omitempty"`

	// message explains the finding.
	// +required
	// +kubebuilder:validation:MaxLength=2048
	Message string `json:"message"`
}

// StateMachine conditions and reasons.
const (
	// ConditionValid is True when the definition passed validation.
	ConditionValid = "Valid"
	// ReasonDefinitionValid is the reason of a True Valid condition.
	ReasonDefinitionValid = "DefinitionValid"
	// ReasonDefinitionInvalid is the reason of a False Valid condition.
	ReasonDefinitionInvalid = "DefinitionInvalid"
	// ReasonDefinitionUnreadable is the reason of a False Valid condition whose definition is
	// not JSON or YAML at all.
	ReasonDefinitionUnreadable = "DefinitionUnreadable"
)

// StateMachine is an Amazon States Language workflow. Executions of it are started by
// creating Execution objects that name it.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sm,categories=kstates
// +kubebuilder:printcolumn:name="Valid",type=string,JSONPath=`.status.conditions[?(@.type=="Valid")].status`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`,priority=1
// +kubebuilder:printcolumn:name="Revision",type=string,JSONPath=`.status.currentRevision`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type StateMachine struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the definition and how its tasks run.
	// +required
	Spec StateMachineSpec `json:"spec"`

	// status is what the controller observed.
	// +optional
	Status StateMachineStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// StateMachineList is a list of StateMachines.
type StateMachineList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the StateMachines.
	Items []StateMachine `json:"items"`
}

func init() {
	SchemeBuilder.Register(&StateMachine{}, &StateMachineList{})
}
