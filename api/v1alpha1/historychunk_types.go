package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HistoryChunkSpec is a sealed, immutable run of consecutive history events.
// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="a HistoryChunk is immutable"
// +kubebuilder:validation:XValidation:rule="self.lastEventId >= self.firstEventId",message="lastEventId must not be before firstEventId"
type HistoryChunkSpec struct {
	// executionName is the name of the Execution the events belong to.
	// +required
	// +kubebuilder:validation:MaxLength=253
	ExecutionName string `json:"executionName"`

	// sequence is the chunk's position among the execution's chunks, from 0.
	// +required
	// +kubebuilder:validation:Minimum=0
	Sequence int32 `json:"sequence"`

	// firstEventId is the id of events[0].
	// +required
	// +kubebuilder:validation:Minimum=1
	FirstEventID int64 `json:"firstEventId"`

	// lastEventId is the id of the last event.
	// +required
	// +kubebuilder:validation:Minimum=1
	LastEventID int64 `json:"lastEventId"`

	// events are the events, oldest first, with contiguous ids (about 50; at most 1000).
	// +required
	// +listType=atomic
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=1000
	Events []HistoryEvent `json:"events"`
}

// HistoryChunk holds older history events of one Execution, which owns it (and deletes it
// with itself). The controller writes it once, before it drops the events from the
// Execution's status.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=hchunk,categories=kstates
// +kubebuilder:printcolumn:name="Execution",type=string,JSONPath=`.spec.executionName`
// +kubebuilder:printcolumn:name="First",type=integer,JSONPath=`.spec.firstEventId`
// +kubebuilder:printcolumn:name="Last",type=integer,JSONPath=`.spec.lastEventId`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type HistoryChunk struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the object's metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec holds the events.
	// +required
	Spec HistoryChunkSpec `json:"spec"`
}

// +kubebuilder:object:root=true

// HistoryChunkList is a list of HistoryChunks.
type HistoryChunkList struct {
	metav1.TypeMeta `json:",inline"`
	// metadata is the list's metadata.
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the HistoryChunks.
	Items []HistoryChunk `json:"items"`
}

func init() {
	SchemeBuilder.Register(&HistoryChunk{}, &HistoryChunkList{})
}
