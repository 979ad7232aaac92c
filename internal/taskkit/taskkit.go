// Package taskkit is the container side of kstates' pod task contract, for task programs
// written in Go (docs/operator.md, "Pod tasks"; internal/podtask is the controller side):
//
//   - the input is the JSON in the file $KSTATES_INPUT_FILE (default /kstates/input.json),
//     and, when small, also in $KSTATES_INPUT; the file wins when both exist;
//   - the output is JSON written to the termination message (/dev/termination-log) with
//     exit code 0; an output longer than the kubelet keeps there (4096 bytes) is printed as
//     the last line of stdout instead, and the termination message is left empty;
//   - a named error is {"Error": name, "Cause": cause} in the termination message with exit
//     code 1, so that Retry and Catch match on name; any other failure writes its text
//     there and exits 1, which the controller reports as States.TaskFailed.
//
// Logs go to stderr, so that stdout holds nothing but a large output.
//
//	func main() {
//		taskkit.Main(func(t *taskkit.Task) (any, error) {
//			var in struct{ OrderID string `json:"orderId"` }
//			if err := t.Decode(&in); err != nil {
//				return nil, err
//			}
//			if in.OrderID == "" {
//				return nil, taskkit.Errorf("InvalidOrder", "no orderId")
//			}
//			return map[string]any{"ok": true}, nil
//		})
//	}
package taskkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Environment variables the controller sets in a task container.
const (
	EnvInput       = "KSTATES_INPUT"
	EnvInputFile   = "KSTATES_INPUT_FILE"
	EnvTaskToken   = "KSTATES_TASK_TOKEN"
	EnvAttempt     = "KSTATES_ATTEMPT"
	EnvState       = "KSTATES_STATE"
	EnvExecutionID = "KSTATES_EXECUTION_ID"
	// EnvTerminationLog overrides the termination message path (for running a task
	// program outside a pod); the controller does not set it.
	EnvTerminationLog = "KSTATES_TERMINATION_LOG"
)

// Defaults of the contract.
const (
	DefaultInputFile      = "/kstates/input.json"
	DefaultTerminationLog = "/dev/termination-log"
	// MaxMessageBytes is the most a kubelet keeps of a container's termination message
	// (it keeps the last bytes, so a longer JSON document would arrive cut).
	MaxMessageBytes = 4096
)

// Task is one attempt of a task, as the container sees it.
type Task struct {
	// Input is the task's effective input (JSON).
	Input json.RawMessage
	// TaskToken is set for .waitForTaskToken tasks.
	TaskToken string
	// Attempt counts from 0; each retry of the state adds one.
	Attempt int
	// State is the name of the Task state.
	State string
	// ExecutionID is the execution's ARN-style id.
	ExecutionID string
	// Log writes to stderr (the container's log).
	Log io.Writer
}

// Decode unmarshals the input into v.
func (t *Task) Decode(v any) error {
	if err := json.Unmarshal(t.Input, v); err != nil {
		return Errorf("States.Runtime", "the task input does not fit what the task expects: %v", err)
	}
	return nil
}

// Logf writes one line to the task's log.
func (t *Task) Logf(format string, args ...any) {
	fmt.Fprintf(t.Log, format+"\n", args...)
}

// Error is a named error: Retry and Catch match on Name.
type Error struct {
	Name  string
	Cause string
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Errorf returns the named error name with a formatted cause.
func Errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// Handler computes a task's output (any value encoding/json marshals) or fails. An *Error
// (also wrapped) is a named error; any other error is States.TaskFailed.
type Handler func(t *Task) (any, error)

// Env is what Run touches of the world; OS returns the real one.
type Env struct {
	Getenv    func(string) string
	ReadFile  func(string) ([]byte, error)
	WriteFile func(string, []byte) error
	Stdout    io.Writer
	Stderr    io.Writer
}

// OS is the process's environment, files, stdout and stderr.
func OS() Env {
	return Env{
		Getenv:    os.Getenv,
		ReadFile:  os.ReadFile,
		WriteFile: func(p string, b []byte) error { return os.WriteFile(p, b, 0o644) },
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
	}
}

// Main runs h as the process's task and exits with its code.
func Main(h Handler) { os.Exit(Run(OS(), h)) }

// Run reads the task from env, calls h and reports its result per the contract. It returns
// the process's exit code: 0 on success, 1 on failure.
func Run(env Env, h Handler) int {
	t, err := read(env)
	if err == nil {
		var out any
		if out, err = call(h, t); err == nil {
			return writeOutput(env, out)
		}
	}
	return writeError(env, err)
}

// call runs h, turning a panic into an error so that it is reported, not lost.
func call(h Handler, t *Task) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the task panicked: %v", r)
		}
	}()
	return h(t)
}

// read gathers the task from the environment: the input file when it exists, else
// $KSTATES_INPUT.
func read(env Env) (*Task, error) {
	t := &Task{
		TaskToken:   env.Getenv(EnvTaskToken),
		State:       env.Getenv(EnvState),
		ExecutionID: env.Getenv(EnvExecutionID),
		Log:         env.Stderr,
	}
	if a := env.Getenv(EnvAttempt); a != "" {
		n, err := strconv.Atoi(a)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("$%s is %q, not an attempt number", EnvAttempt, a)
		}
		t.Attempt = n
	}
	path := env.Getenv(EnvInputFile)
	explicit := path != ""
	if !explicit {
		path = DefaultInputFile
	}
	b, err := env.ReadFile(path)
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		s := env.Getenv(EnvInput)
		if s == "" {
			return nil, fmt.Errorf("no task input: neither %s nor $%s", path, EnvInput)
		}
		b = []byte(s)
	default:
		return nil, fmt.Errorf("reading the task input: %v", err)
	}
	b = bytes.TrimSpace(b)
	if !json.Valid(b) {
		return nil, fmt.Errorf("the task input is not JSON: %.200q", b)
	}
	t.Input = json.RawMessage(b)
	return t, nil
}

func terminationLog(env Env) string {
	if p := env.Getenv(EnvTerminationLog); p != "" {
		return p
	}
	return DefaultTerminationLog
}

// writeOutput reports out: in the termination message, or on stdout when too large.
func writeOutput(env Env, out any) int {
	b, err := json.Marshal(out)
	if err != nil {
		return writeError(env, fmt.Errorf("the task output cannot be encoded as JSON: %v", err))
	}
	if len(b) <= MaxMessageBytes {
		if err := env.WriteFile(terminationLog(env), b); err != nil {
			return writeError(env, fmt.Errorf("writing the output to %s: %v", terminationLog(env), err))
		}
		return 0
	}
	// Too large for the termination message: the last line of stdout, message left empty.
	if err := env.WriteFile(terminationLog(env), nil); err != nil {
		return writeError(env, fmt.Errorf("emptying %s: %v", terminationLog(env), err))
	}
	if _, err := env.Stdout.Write(append(b, '\n')); err != nil {
		fmt.Fprintf(env.Stderr, "taskkit: writing the output to stdout: %v\n", err)
		return 1
	}
	return 0
}

// writeError reports err: a named error as {"Error","Cause"}, anything else as its text.
func writeError(env Env, err error) int {
	var named *Error
	var msg []byte
	if errors.As(err, &named) {
		fmt.Fprintf(env.Stderr, "task failed: %s\n", named)
		msg = errorMessage(named)
	} else {
		fmt.Fprintf(env.Stderr, "task failed: %v\n", err)
		msg = []byte(truncate(err.Error(), MaxMessageBytes))
	}
	if werr := env.WriteFile(terminationLog(env), msg); werr != nil {
		fmt.Fprintf(env.Stderr, "taskkit: writing %s: %v\n", terminationLog(env), werr)
	}
	return 1
}

// errorMessage encodes e, shortening the cause until it fits the termination message.
func errorMessage(e *Error) []byte {
	type wire struct {
		Error string `json:"Error"`
		Cause string `json:"Cause,omitempty"`
	}
	w := wire{Error: truncate(e.Name, 256), Cause: e.Cause}
	b, _ := json.Marshal(w)
	if len(b) <= MaxMessageBytes {
		return b
	}
	// Escaping makes the JSON longer than the text by a varying amount: find the longest
	// cut that fits.
	cause := e.Cause
	lo, hi := 0, len(cause) // the cut to lo bytes fits (the empty cause does); hi does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		w.Cause = truncate(cause, mid)
		if b, _ := json.Marshal(w); len(b) <= MaxMessageBytes {
			lo = mid
		} else {
			hi = mid
		}
	}
	w.Cause = truncate(cause, lo)
	b, _ = json.Marshal(w)
	return b
}

// truncate shortens s to at most n bytes on a rune boundary, marking the cut with "...".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 3 {
		return ""
	}
	cut := n - 3
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + "..."
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
