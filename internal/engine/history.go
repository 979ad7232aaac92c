package engine

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine/value"
)

// HistoryEvent is one event, in the shape of AWS's GetExecutionHistory.
type HistoryEvent struct {
	ID              int64     `json:"id"`
	PreviousEventID int64     `json:"previousEventId"`
	Timestamp       time.Time `json:"timestamp"`
	Type            string    `json:"type"`
	// Details is the "...EventDetails" object for Type (its JSON key is
	// DetailsKey(Type), e.g. "stateEnteredEventDetails"). It is one of the
	// *...Details types of this package and holds payloads as values; they
	// are serialised only by MarshalJSON.
	Details any `json:"-"`
}

// DetailsKey returns the JSON key of an event type's details object
// ("PassStateEntered" -> "stateEnteredEventDetails"), or "" for the types
// that have none (ParallelStateStarted, MapStateSucceeded, ...).
func DetailsKey(eventType string) string {
	switch {
	case strings.HasSuffix(eventType, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(eventType, "StateExited"):
		return "stateExitedEventDetails"
	case strings.HasPrefix(eventType, "Execution"), eventType == "EvaluationFailed",
		strings.HasPrefix(eventType, "Task") && !strings.HasPrefix(eventType, "TaskState"),
		strings.HasPrefix(eventType, "MapIteration"),
		eventType == "MapStateStarted", eventType == "MapRunStarted", eventType == "MapRunFailed",
		strings.HasPrefix(eventType, "Activity"), strings.HasPrefix(eventType, "LambdaFunction"):
		return strings.ToLower(eventType[:1]) + eventType[1:] + "EventDetails"
	}
	return ""
}

// MarshalJSON writes the event as AWS's GetExecutionHistory does.
func (e HistoryEvent) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 128)
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, e.ID, 10)
	b = append(b, `,"previousEventId":`...)
	b = strconv.AppendInt(b, e.PreviousEventID, 10)
	b = append(b, `,"timestamp":`...)
	b = value.Append(b, e.Timestamp.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
	b = append(b, `,"type":`...)
	b = value.Append(b, e.Type)
	if d, ok := e.Details.(detailsAppender); ok && d != nil {
		if k := DetailsKey(e.Type); k != "" {
			b = append(b, ',')
			b = value.Append(b, k)
			b = append(b, ':')
			b = d.appendJSON(b)
		}
	}
	return append(b, '}'), nil
}

type detailsAppender interface{ appendJSON(b []byte) []byte }

// obj builds a details object; payload fields are JSON strings, as AWS
// shows them.
type obj struct {
	b     []byte
	first bool
}

func (o *obj) key(k string) {
	if !o.first {
		o.b = append(o.b, ',')
	}
	o.first = false
	o.b = value.Append(o.b, k)
	o.b = append(o.b, ':')
}
func (o *obj) str(k, v string) { o.key(k); o.b = value.Append(o.b, v) }
func (o *obj) optStr(k, v string) {
	if v != "" {
		o.str(k, v)
	}
}
func (o *obj) num(k string, v int64) { o.key(k); o.b = strconv.AppendInt(o.b, v, 10) }
func (o *obj) payload(k string, v any) {
	o.str(k, value.MarshalString(v))
	o.key(k + "Details")
	o.b = append(o.b, `{"truncated":false}`...)
}

func start(b []byte) *obj  { return &obj{b: append(b, '{'), first: true} }
func (o *obj) end() []byte { return append(o.b, '}') }

// StateEnteredDetails is stateEnteredEventDetails.
type StateEnteredDetails struct {
	Name  string
	Input any
}

func (d *StateEnteredDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.str("name", d.Name)
	o.payload("input", d.Input)
	return o.end()
}

// StateExitedDetails is stateExitedEventDetails.
type StateExitedDetails struct {
	Name   string
	Output any
	// Assigned holds the variables the state assigned (nil when none).
	Assigned map[string]any
}

func (d *StateExitedDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.str("name", d.Name)
	o.payload("output", d.Output)
	if d.Assigned != nil {
		o.key("assignedVariables")
		a := start(o.b)
		keys := make([]string, 0, len(d.Assigned))
		for k := range d.Assigned {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			a.str(k, value.MarshalString(d.Assigned[k]))
		}
		o.b = a.end()
		o.key("assignedVariablesDetails")
		o.b = append(o.b, `{"truncated":false}`...)
	}
	return o.end()
}

// ExecutionStartedDetails is executionStartedEventDetails.
type ExecutionStartedDetails struct {
	Input   any
	RoleArn string
}

func (d *ExecutionStartedDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.payload("input", d.Input)
	o.optStr("roleArn", d.RoleArn)
	return o.end()
}

// OutputDetails is executionSucceededEventDetails.
type OutputDetails struct{ Output any }

func (d *OutputDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.payload("output", d.Output)
	return o.end()
}

// ErrorDetails is the details of the failure events (executionFailed,
// executionAborted, executionTimedOut, taskTimedOut, mapRunFailed, ...).
type ErrorDetails struct {
	Error, Cause string
	// Resource and ResourceType are set for task events.
	Resource, ResourceType string
}

func (d *ErrorDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.optStr("resourceType", d.ResourceType)
	o.optStr("resource", d.Resource)
	o.optStr("error", d.Error)
	o.optStr("cause", d.Cause)
	return o.end()
}

// EvaluationFailedDetails is evaluationFailedEventDetails: a JSONata
// expression of a state failed (States.QueryEvaluationError).
type EvaluationFailedDetails struct {
	Error, Cause string
	// Location names the field ("Output/result", "Items"); empty when the
	// failure is not one expression's.
	Location string
	State    string
}

func (d *EvaluationFailedDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.optStr("error", d.Error)
	o.optStr("cause", d.Cause)
	o.optStr("location", d.Location)
	o.optStr("state", d.State)
	return o.end()
}

// TaskScheduledDetails is taskScheduledEventDetails.
type TaskScheduledDetails struct {
	ResourceType, Resource, Region string
	Parameters                     any
	TimeoutInSeconds               int64
	HeartbeatInSeconds             int64
}

func (d *TaskScheduledDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.str("resourceType", d.ResourceType)
	o.str("resource", d.Resource)
	o.str("region", d.Region)
	o.str("parameters", value.MarshalString(d.Parameters))
	if d.TimeoutInSeconds > 0 {
		o.num("timeoutInSeconds", d.TimeoutInSeconds)
	}
	if d.HeartbeatInSeconds > 0 {
		o.num("heartbeatInSeconds", d.HeartbeatInSeconds)
	}
	return o.end()
}

// TaskDetails is taskStartedEventDetails and taskSucceededEventDetails
// (Output set for the latter).
type TaskDetails struct {
	ResourceType, Resource string
	Output                 any
	HasOutput              bool
}

func (d *TaskDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.str("resourceType", d.ResourceType)
	o.str("resource", d.Resource)
	if d.HasOutput {
		o.payload("output", d.Output)
	}
	return o.end()
}

// MapStartedDetails is mapStateStartedEventDetails.
type MapStartedDetails struct{ Length int }

func (d *MapStartedDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.num("length", int64(d.Length))
	return o.end()
}

// MapIterationDetails is mapIteration{Started,Succeeded,Failed,Aborted}EventDetails.
type MapIterationDetails struct {
	Name  string
	Index int
}

func (d *MapIterationDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.str("name", d.Name)
	o.num("index", int64(d.Index))
	return o.end()
}

// MapRunStartedDetails is mapRunStartedEventDetails.
type MapRunStartedDetails struct{ MapRunArn string }

func (d *MapRunStartedDetails) appendJSON(b []byte) []byte {
	o := start(b)
	o.str("mapRunArn", d.MapRunArn)
	return o.end()
}
