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

// ExecutionHistory is where an execution's events are: the newest inline, the rest sealed
// into HistoryChunks in order. Event ids are contiguous: chunks[0] starts at id 1, each
// chunk starts right after the previous one, and events continues after the last chunk.
type ExecutionHistory struct {
	// eventCount is the number of events recorded so far (the id of the last one).
	// +optional
	// +kubebuilder:validation:Minimum=0
	EventCount int64 `json:"eventCount,omitempty"`

	// events are the most recent events, oldest first: at most 100 and about 32 KiB.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Events []HistoryEvent `json:"events,omitempty"`

	// chunks are the sealed HistoryChunks holding the older events, oldest first.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=1000
	Chunks []HistoryChunkReference `json:"chunks,omitempty"`
}

// HistoryChunkReference names a sealed HistoryChunk and the events it holds.
type HistoryChunkReference struct {
	// name is the HistoryChunk's name, in the Execution's namespace.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// firstEventId is the id of the chunk's first event.
	// +required
	FirstEventID int64 `json:"firstEventId"`

	// lastEventId is the id of the chunk's last event.
	// +required
	LastEventID int64 `json:"lastEventId"`
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
