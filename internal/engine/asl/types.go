// Package asl parses and validates Amazon States Language definitions.
//
// Parse turns a JSON or YAML document into a Definition and a list of
// Diagnostics, each located by a JSON pointer into the document, in the spirit
// of AWS's ValidateStateMachineDefinition. A Definition is plain data: the
// templates (Parameters, ResultSelector, Assign, ...) are kept as the decoded
// JSON values and compiled by the engine.
package asl

// Query languages.
const (
	QueryLanguageJSONPath = "JSONPath"
	QueryLanguageJSONata  = "JSONata"
)

// State types.
const (
	TypePass     = "Pass"
	TypeTask     = "Task"
	TypeChoice   = "Choice"
	TypeWait     = "Wait"
	TypeSucceed  = "Succeed"
	TypeFail     = "Fail"
	TypeParallel = "Parallel"
	TypeMap      = "Map"
)

// Definition is a state machine, or a Parallel branch, or a Map item processor:
// they share the StartAt/States shape.
type Definition struct {
	// Comment is the free-text comment.
	Comment string
	// StartAt names the first state.
	StartAt string
	// States holds the states by name.
	States map[string]*State
	// StateOrder lists the state names in document order (Go maps lose it).
	StateOrder []string
	// Version is the ASL version string ("1.0") when given.
	Version string
	// TimeoutSeconds is the execution timeout (top level only); nil when absent.
	TimeoutSeconds *int64
	// QueryLanguage is "JSONPath" (default) or "JSONata". A branch or an item
	// processor has the machine's (AWS allows no QueryLanguage there, and a
	// Map's or Parallel's own QueryLanguage does not reach its states).
	QueryLanguage string
	// ProcessorConfig is set on a Map's ItemProcessor (Mode INLINE or DISTRIBUTED,
	// ExecutionType STANDARD or EXPRESS).
	ProcessorConfig *ProcessorConfig
	// Pointer is the JSON pointer of this definition in the document ("" for the
	// top level, "/States/P/Branches/0" for a branch...).
	Pointer string
}

// ProcessorConfig is a Map ItemProcessor's ProcessorConfig.
type ProcessorConfig struct {
	Mode          string // INLINE (default) or DISTRIBUTED
	ExecutionType string // STANDARD or EXPRESS (DISTRIBUTED only)
}

// Optional wraps a field whose absence, JSON null and value differ in meaning
// (InputPath: absent = "$", null = {}).
type Optional[T any] struct {
	Set   bool // the key was present
	Null  bool // the key was present with a JSON null
	Value T
}

// Has reports whether the key was present with a non-null value.
func (o Optional[T]) Has() bool { return o.Set && !o.Null }

// State is one state. It is a flat union: only the fields allowed for Type are
// set (validation reports the others).
type State struct {
	Name    string
	Type    string
	Comment string
	// Pointer is the JSON pointer of this state ("/States/Name").
	Pointer string
	// QueryLanguage is the state's effective query language: its own, else
	// the machine's.
	QueryLanguage string

	// Transitions.
	Next string
	End  bool

	// JSONPath-mode data flow.
	InputPath      Optional[string]
	OutputPath     Optional[string]
	ResultPath     Optional[string]
	Parameters     Optional[any] // template; keys ending ".$" are paths/intrinsics
	ResultSelector Optional[any]
	Result         Optional[any] // Pass

	// JSONata-mode data flow.
	Arguments Optional[any] // template with {% %} strings
	Output    Optional[any]

	// Assign, both modes: a template (JSONPath mode: ".$" keys; JSONata: {% %}).
	Assign Optional[any]

	// Task.
	Resource             string
	TimeoutSeconds       Optional[any] // int64, or a JSONata string
	TimeoutSecondsPath   Optional[string]
	HeartbeatSeconds     Optional[any]
	HeartbeatSecondsPath Optional[string]
	Credentials          Optional[any]
	Retry                []*Retrier
	Catch                []*Catcher

	// Choice.
	Choices []*ChoiceRule
	Default string

	// Wait.
	Seconds       Optional[any] // number, or a JSONata string
	Timestamp     Optional[any] // string (RFC 3339) or a JSONata string
	SecondsPath   Optional[string]
	TimestampPath Optional[string]

	// Fail.
	Error     Optional[string]
	Cause     Optional[string]
	ErrorPath Optional[string]
	CausePath Optional[string]

	// Parallel.
	Branches []*Definition

	// Map.
	ItemProcessor *Definition // ItemProcessor or legacy Iterator
	// LegacyIterator is true when the definition used "Iterator".
	LegacyIterator                 bool
	ItemsPath                      Optional[string]
	Items                          Optional[any] // JSONata: array or {% %} string
	ItemSelector                   Optional[any] // or legacy Parameters on a Map (see LegacyParameters)
	LegacyParameters               bool          // ItemSelector came from "Parameters"
	MaxConcurrency                 Optional[any] // int64 or JSONata string
	MaxConcurrencyPath             Optional[string]
	ItemBatcher                    Optional[any] // raw object: MaxItemsPerBatch(Path), MaxInputBytesPerBatch(Path), BatchInput
	ItemReader                     Optional[any]
	ResultWriter                   Optional[any]
	ToleratedFailureCount          Optional[any]
	ToleratedFailureCountPath      Optional[string]
	ToleratedFailurePercentage     Optional[any]
	ToleratedFailurePercentagePath Optional[string]
	Label                          string
}

// Retrier is one element of a Retry array.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds Optional[int64]   // default 1
	MaxAttempts     Optional[int64]   // default 3
	BackoffRate     Optional[float64] // default 2.0
	MaxDelaySeconds Optional[int64]
	JitterStrategy  string // "FULL" or "NONE" (default)
	Comment         string
	Pointer         string
}

// Catcher is one element of a Catch array.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  Optional[string] // JSONPath mode
	Output      Optional[any]    // JSONata mode
	Assign      Optional[any]
	Comment     string
	Pointer     string
}

// ChoiceRule is a Choice state's rule, or a nested rule inside And/Or/Not.
// A top-level rule has Next; nested ones do not.
type ChoiceRule struct {
	// Variable is the JSONPath of the compared value (JSONPath mode).
	Variable Optional[string]
	// Operator is the comparison operator name (StringEquals,
	// NumericLessThanPath, IsPresent, StringMatches, ...), "" for And/Or/Not
	// and for a JSONata Condition rule.
	Operator string
	// Operand is the operator's value: a literal, or a path string for the
	// ...Path operators, or a bool for the Is* operators.
	Operand any
	And     []*ChoiceRule
	Or      []*ChoiceRule
	Not     *ChoiceRule
	// Condition is a JSONata rule's condition (a {% %} string or a bool).
	Condition Optional[any]
	Next      string
	Assign    Optional[any]
	Output    Optional[any]
	Comment   string
	Pointer   string
}

// Diagnostic is one validation finding, located by a JSON pointer.
type Diagnostic struct {
	// Code is an AWS-style code: SCHEMA_VALIDATION_FAILED, MISSING_END_STATE,
	// DUPLICATE_STATE_NAME, MISSING_TRANSITION_TARGET, UNREACHABLE_STATE, ...
	Code string `json:"code"`
	// Location is a JSON pointer into the definition ("/States/A/Next", "/"
	// for the root); "" for the document as a whole (invalid JSON, no
	// terminal state), where AWS gives none.
	Location string `json:"location"`
	// Message explains the problem.
	Message string `json:"message"`
	// Severity is ERROR or WARNING.
	Severity string `json:"severity"`
}

// Severities.
const (
	SeverityError   = "ERROR"
	SeverityWarning = "WARNING"
)
