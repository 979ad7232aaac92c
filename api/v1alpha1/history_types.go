package v1alpha1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// HistoryEvent is one event of an execution's history, as AWS's GetExecutionHistory returns it.
type HistoryEvent struct {
	// id is the event's number, 1 for ExecutionStarted, increasing by one.
	// +required
	// +kubebuilder:validation:Minimum=1
	ID int64 `json:"id"`

	// previousEventId is the id of the event this one follows from (0 for the first).
	// +optional
	// +kubebuilder:validation:Minimum=0
	PreviousEventID int64 `json:"previousEventId,omitempty"`

	// timestamp is when the event happened, to the microsecond.
	// +required
	Timestamp metav1.MicroTime `json:"timestamp"`

	// type is AWS's event type name, e.g. ExecutionStarted, TaskStateEntered,
	// TaskScheduled, TaskSucceeded, MapIterationStarted, ExecutionSucceeded.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z]+$`
	Type string `json:"type"`

	// stateName is the state the event belongs to, for state events.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	StateName string `json:"stateName,omitempty"`

	// details are the event's details as AWS shapes them for its type (input, output,
	// error, cause, resource, ...). Details larger than 2 KiB are in the Payload named by
	// detailsRef and left out here.
	// +optional
	Details *apiextensionsv1.JSON `json:"details,omitempty"`

	// detailsRef names the Payload holding details larger than 2 KiB.
	// +optional
	DetailsRef *PayloadReference `json:"detailsRef,omitempty"`
}

// ExecutionHistory is where an execution's events are: the newest inline, the older ones
// sealed, in order, into HistoryChunks named chunkPrefix-00000, chunkPrefix-00001, ...
// Event ids are contiguous: the chunks hold ids 1 to sealedEventCount, events continues with
// sealedEventCount+1 up to eventCount. The status stays the same size however long the
// history grows.
type ExecutionHistory struct {
	// eventCount is the number of events recorded so far (the id of the last one).
	// +optional
	// +kubebuilder:validation:Minimum=0
	EventCount int64 `json:"eventCount,omitempty"`

	// events are the most recent events, oldest first, each a string holding the event as one
	// line of JSON (EventWindow). The controller keeps up to 16 events and about 4 KiB here
	// (and never more than 100).
	// Only the controller writes it, and the schema leaves it unchecked: controller-gen cannot
	// describe a list of strings for a Go list of structs, and CEL cannot see into a field
	// without a schema.
	// +optional
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Events EventWindow `json:"events,omitempty"`

	// chunkPrefix names this execution's HistoryChunks: chunk i is "<chunkPrefix>-<i>" with
	// i written as five digits. Set once, when the first chunk is sealed.
	// +optional
	// +kubebuilder:validation:MaxLength=240
	ChunkPrefix string `json:"chunkPrefix,omitempty"`

	// chunkCount is the number of sealed HistoryChunks.
	// +optional
	// +kubebuilder:validation:Minimum=0
	ChunkCount int32 `json:"chunkCount,omitempty"`

	// sealedEventCount is the number of events in the HistoryChunks: ids 1 to
	// sealedEventCount.
	// +optional
	// +kubebuilder:validation:Minimum=0
	SealedEventCount int64 `json:"sealedEventCount,omitempty"`
}

// PayloadReference names a Payload in the same namespace.
type PayloadReference struct {
	// name is the Payload's name.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// size is the payload's size in bytes.
	// +optional
	Size int64 `json:"size,omitempty"`

	// sha256 is the hex SHA-256 of the payload's data, checked when it is read.
	// +optional
	// +kubebuilder:validation:Pattern=`^[0-9a-f]{64}$`
	SHA256 string `json:"sha256,omitempty"`
}
