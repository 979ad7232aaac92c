package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// StateMachineRevisionSpec is an immutable snapshot of everything in a StateMachine's spec
// that affects how an execution runs.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a StateMachineRevision is immutable"
type StateMachineRevisionSpec struct {
	// stateMachineName is the name of the StateMachine this is a revision of.
	// +required
	// +kubebuilder:validation:MaxLength=253
	StateMachineName string `json:"stateMachineName"`

	// sequence numbers the state machine's revisions in the order they were created, from 1.
	// +required
	// +kubebuilder:validation:Minimum=1
	Sequence int64 `json:"sequence"`

	// hash is the hex SHA-256 of the canonical JSON of definition, type, bindings,
	// serviceAccountName and taskDefaults; the revision's name ends with its first 10 digits.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	Hash string `json:"hash"`

	// definition is the ASL definition as canonical JSON text (converted from YAML when it
	// was written as YAML; the StateMachine keeps the original).
	// +required
	// +kubebuilder:validation:MaxLength=1048576
	Definition string `json:"definition"`

	// type is the execution type, STANDARD or EXPRESS.
	// +required
	Type StateMachineType `json:"type"`

	// bindings are the task bindings, as in the StateMachine.
	// +optional
	// +listType=map
	// +listMapKey=resource
	// +kubebuilder:validation:MaxItems=256
	Bindings []TaskBinding `json:"bindings,omitempty"`

	// serviceAccountName is the service account of task pods.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	ServiceAccountName string `json:"serviceAccountName,omitempty"`

	// taskDefaults are the pod settings of task pods.
	// +optional
	TaskDefaults *TaskPodDefaults `json:"taskDefaults,omitempty"`

	// roleArn is the StateMachine's roleArn, reported as $$.Execution.RoleArn.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	RoleArn string `json:"roleArn,omitempty"`
}

// StateMachineRevision is one immutable version of a StateMachine, created by the
// controller for every distinct definition. Executions run the revision they started with;
// each running Execution is an owner of its revision, so the revision outlives edits and
// even the deletion of the StateMachine until the last such execution is deleted.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=smrev,categories=kstates
// +kubebuilder:printcolumn:name="StateMachine",type=string,JSONPath=`.spec.stateMachineName`
// +kubebuilder:printcolumn:name="Sequence",type=integer,JSONPath=`.spec.sequence`
// +kubebuilder:printcolumn:name="Type",type=string,JSONPath=`.spec.type`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type StateMachineRevision struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the snapshot.
	// +required
	Spec StateMachineRevisionSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// StateMachineRevisionList is a list of StateMachineRevisions.
type StateMachineRevisionList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the StateMachineRevisions.
	Items []StateMachineRevision `json:"items"`
}

func init() {
	SchemeBuilder.Register(&StateMachineRevision{}, &StateMachineRevisionList{})
}
