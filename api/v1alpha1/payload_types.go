package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PayloadPurpose says what a Payload holds.
// +kubebuilder:validation:Enum=Output;EventDetails;EngineState;TaskInput;TaskOutput
type PayloadPurpose string

// Payload purposes.
const (
	PayloadOutput       PayloadPurpose = "Output"
	PayloadEventDetails PayloadPurpose = "EventDetails"
	PayloadEngineState  PayloadPurpose = "EngineState"
	PayloadTaskInput    PayloadPurpose = "TaskInput"
	PayloadTaskOutput   PayloadPurpose = "TaskOutput"
)

// PayloadSpec is an immutable JSON document kept beside an Execution.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a Payload is immutable"
type PayloadSpec struct {
	// executionName is the name of the Execution the payload belongs to.
	// +required
	// +kubebuilder:validation:MaxLength=253
	ExecutionName string `json:"executionName"`

	// purpose says what the payload holds: Output, EventDetails, EngineState, TaskInput or
	// TaskOutput.
	// +required
	Purpose PayloadPurpose `json:"purpose"`

	// data is the JSON text, at most 1 MiB (state inputs and outputs are limited to 256 KiB
	// as on AWS; engine states may be larger).
	// +required
	// +kubebuilder:validation:MaxLength=1048576
	Data string `json:"data"`

	// sha256 is the hex SHA-256 of data.
	// +required
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	SHA256 string `json:"sha256"`
}

// Payload is a large JSON document (an output, event details, an engine state) stored
// beside the Execution that owns it, so that the Execution stays small.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:categories=kstates
// +kubebuilder:printcolumn:name="Execution",type=string,JSONPath=`.spec.executionName`
// +kubebuilder:printcolumn:name="Purpose",type=string,JSONPath=`.spec.purpose`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Payload struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the document.
	// +required
	Spec PayloadSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// PayloadList is a list of Payloads.
type PayloadList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the Payloads.
	Items []Payload `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Payload{}, &PayloadList{})
}
