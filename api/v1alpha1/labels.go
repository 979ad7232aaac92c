package v1alpha1

// Labels and annotations the operator sets on the objects it creates, so that they can be
// listed by what they belong to. Label values are at most 63 characters, which is why the
// owner's UID, not its name, is used where names may be longer.
const (
	// LabelStateMachine is set on a StateMachineRevision to the StateMachine's name when the
	// name fits a label value.
	LabelStateMachine = "kstates.io/state-machine"
	// LabelStateMachineUID is set on a StateMachineRevision to the StateMachine's UID.
	LabelStateMachineUID = "kstates.io/state-machine-uid"
	// LabelExecutionUID is set on HistoryChunks, Payloads and task Pods to the Execution's UID.
	LabelExecutionUID = "kstates.io/execution-uid"
	// LabelDefinitionHash is set on a StateMachineRevision to the first 10 hex digits of its
	// content hash.
	LabelDefinitionHash = "kstates.io/definition-hash"
)

// FinalizerRevisionInUse is on every StateMachineRevision: it holds a revision that is being
// deleted (pruned, or garbage collected after its StateMachine was deleted) until no Execution
// in its namespace runs it (status.revision names it), and is removed by the operator then.
// An Execution does not write its revision when it starts; this finalizer and a cache index
// over Execution status.revision are what keep the revision while it is in use.
const FinalizerRevisionInUse = "kstates.io/revision-in-use"

// Size budgets of the storage design (docs/operator.md). The controllers enforce them; the CRD
// schemas enforce the hard limits with maxItems and maxLength.
const (
	// MaxPayloadBytes is AWS Step Functions' limit on a state's input or output, and on an
	// execution's input: larger payloads raise States.DataLimitExceeded.
	MaxPayloadBytes = 256 * 1024
	// MaxHistoryEvents is AWS Step Functions' limit on the events of one execution.
	MaxHistoryEvents = 25000
	// MaxInlineOutputBytes is the largest output kept in Execution.status.output; a larger
	// output is stored in a Payload and referenced from status.outputRef.
	MaxInlineOutputBytes = 16 * 1024
	// MaxInlineDetailsBytes is the largest details document kept inside a history event; larger
	// details are stored in a Payload referenced from the event's detailsRef.
	MaxInlineDetailsBytes = 2 * 1024
	// WindowEvents is how many events the controller keeps in
	// Execution.status.history.events before it seals the older ones into a HistoryChunk.
	WindowEvents = 16
	// WindowBytes is how many bytes of events the controller keeps in
	// Execution.status.history.events before it seals the older ones into a HistoryChunk.
	WindowBytes = 4 * 1024
	// MaxChunkEvents is the schema's cap on the events of one HistoryChunk.
	MaxChunkEvents = 1000
	// ChunkNameDigits is the width of a HistoryChunk's sequence number in its name.
	ChunkNameDigits = 5
	// MaxInlineEngineStateBytes is the largest engine state kept in
	// Execution.status.engineState; a larger one lives in a Payload (status.engineStateRef).
	MaxInlineEngineStateBytes = 16 * 1024
	// MaxPayloadObjectBytes is the largest data of one Payload object.
	MaxPayloadObjectBytes = 1024 * 1024
)
