package taskkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// world is a fake Env: environment variables, files, stdout and stderr in memory.
type world struct {
	env    map[string]string
	files  map[string][]byte
	stdout bytes.Buffer
	stderr bytes.Buffer
}

func newWorld(env map[string]string, files map[string]string) *world {
	w := &world{env: env, files: map[string][]byte{}}
	for k, v := range files {
		w.files[k] = []byte(v)
	}
	return w
}

func (w *world) Env() Env {
	return Env{
		Getenv: func(k string) string { return w.env[k] },
		ReadFile: func(p string) ([]byte, error) {
			b, ok := w.files[p]
			if !ok {
				return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
			}
			return b, nil
		},
		WriteFile: func(p string, b []byte) error { w.files[p] = append([]byte(nil), b...); return nil },
		Stdout:    &w.stdout,
		Stderr:    &w.stderr,
	}
}

// message is the termination message, where the task was told to write it.
func (w *world) message() string {
	if p := w.env[EnvTerminationLog]; p != "" {
		return string(w.files[p])
	}
	return string(w.files[DefaultTerminationLog])
}

func echo(t *Task) (any, error) { return t.Input, nil }

func TestRunReportsPerTheContract(t *testing.T) {
	big := strings.Repeat("x", MaxMessageBytes)
	cases := []struct {
		reason      string
		env         map[string]string
		files       map[string]string
		handler     Handler
		wantCode    int
		wantMessage string
		wantStdout  string
	}{{
		reason:      "the input file is read and the output lands in the termination message",
		files:       map[string]string{DefaultInputFile: ` {"orderId":"o-1"} ` + "\n"},
		handler:     echo,
		wantMessage: `{"orderId":"o-1"}`,
	}, {
		reason:      "without the file, $KSTATES_INPUT is the input",
		env:         map[string]string{EnvInput: `[1,2]`},
		handler:     echo,
		wantMessage: `[1,2]`,
	}, {
		reason:      "the file wins over $KSTATES_INPUT",
		env:         map[string]string{EnvInput: `"env"`},
		files:       map[string]string{DefaultInputFile: `"file"`},
		handler:     echo,
		wantMessage: `"file"`,
	}, {
		reason:      "$KSTATES_INPUT_FILE names the file",
		env:         map[string]string{EnvInputFile: "/in/x.json"},
		files:       map[string]string{"/in/x.json": `{"a":1}`},
		handler:     echo,
		wantMessage: `{"a":1}`,
	}, {
		reason:      "a missing file named by $KSTATES_INPUT_FILE is a failure, not a fallback",
		env:         map[string]string{EnvInputFile: "/in/x.json", EnvInput: `{}`},
		handler:     echo,
		wantCode:    1,
		wantMessage: `reading the task input: open /in/x.json: file does not exist`,
	}, {
		reason:      "no input at all is a failure",
		handler:     echo,
		wantCode:    1,
		wantMessage: `no task input: neither /kstates/input.json nor $KSTATES_INPUT`,
	}, {
		reason:      "an input that is not JSON is a failure",
		env:         map[string]string{EnvInput: `{nope`},
		handler:     echo,
		wantCode:    1,
		wantMessage: `the task input is not JSON: "{nope"`,
	}, {
		reason:      "a named error is {Error, Cause} with exit code 1",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { return nil, Errorf("PaymentDeclined", "card %s declined", "4242") },
		wantCode:    1,
		wantMessage: `{"Error":"PaymentDeclined","Cause":"card 4242 declined"}`,
	}, {
		reason:      "a wrapped named error keeps its name",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { return nil, fmt.Errorf("charging: %w", &Error{Name: "PaymentDeclined"}) },
		wantCode:    1,
		wantMessage: `{"Error":"PaymentDeclined"}`,
	}, {
		reason:      "any other error is its text (the controller makes it States.TaskFailed)",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { return nil, errors.New("disk full") },
		wantCode:    1,
		wantMessage: `disk full`,
	}, {
		reason:      "a panic is reported as a failure",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { panic("boom") },
		wantCode:    1,
		wantMessage: `the task panicked: boom`,
	}, {
		reason:      "an output of exactly the message limit still goes to the termination message",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { return big[:MaxMessageBytes-2], nil },
		wantMessage: `"` + big[:MaxMessageBytes-2] + `"`,
	}, {
		reason:      "a larger output is the last line of stdout and the message stays empty",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { return big, nil },
		wantMessage: ``,
		wantStdout:  `"` + big + `"` + "\n",
	}, {
		reason:      "a nil output is JSON null",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { return nil, nil },
		wantMessage: `null`,
	}, {
		reason:      "an output JSON cannot encode is a failure",
		env:         map[string]string{EnvInput: `{}`},
		handler:     func(*Task) (any, error) { return func() {}, nil },
		wantCode:    1,
		wantMessage: `the task output cannot be encoded as JSON: json: unsupported type: func()`,
	}, {
		reason:      "$KSTATES_TERMINATION_LOG moves the termination message",
		env:         map[string]string{EnvInput: `1`, EnvTerminationLog: "/tmp/msg"},
		handler:     echo,
		wantMessage: `1`,
	}}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			w := newWorld(c.env, c.files)
			if w.env == nil {
				w.env = map[string]string{}
			}
			code := Run(w.Env(), c.handler)
			if code != c.wantCode {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.wantCode, w.stderr.String())
			}
			if got := w.message(); got != c.wantMessage {
				t.Errorf("termination message %.300q, want %.300q", got, c.wantMessage)
			}
			if got := w.stdout.String(); got != c.wantStdout {
				t.Errorf("stdout %.100q, want %.100q", got, c.wantStdout)
			}
		})
	}
}

func TestRunPassesTheTaskContext(t *testing.T) {
	w := newWorld(map[string]string{
		EnvInput: `{"x":1}`, EnvAttempt: "2", EnvState: "CheckInventory",
		EnvTaskToken: "tok", EnvExecutionID: "arn:exec",
	}, nil)
	var got Task
	code := Run(w.Env(), func(t *Task) (any, error) {
		got = *t
		t.Logf("hello %d", 7)
		return "ok", nil
	})
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if string(got.Input) != `{"x":1}` || got.Attempt != 2 || got.State != "CheckInventory" ||
		got.TaskToken != "tok" || got.ExecutionID != "arn:exec" {
		t.Errorf("task %+v", got)
	}
	if w.stderr.String() != "hello 7\n" {
		t.Errorf("log %q", w.stderr.String())
	}
	if w.stdout.Len() != 0 {
		t.Errorf("stdout %q, want nothing: logs go to stderr", w.stdout.String())
	}
}

func TestABadAttemptNumberFails(t *testing.T) {
	w := newWorld(map[string]string{EnvInput: `{}`, EnvAttempt: "first"}, nil)
	if code := Run(w.Env(), echo); code != 1 {
		t.Fatalf("exit code %d", code)
	}
	if want := `$KSTATES_ATTEMPT is "first", not an attempt number`; w.message() != want {
		t.Errorf("message %q, want %q", w.message(), want)
	}
}

func TestDecodeFailureIsANamedError(t *testing.T) {
	w := newWorld(map[string]string{EnvInput: `{"n":"seven"}`}, nil)
	code := Run(w.Env(), func(t *Task) (any, error) {
		var in struct{ N int }
		return nil, t.Decode(&in)
	})
	if code != 1 {
		t.Fatalf("exit code %d", code)
	}
	var e struct{ Error, Cause string }
	if err := json.Unmarshal([]byte(w.message()), &e); err != nil || e.Error != "States.Runtime" || !strings.Contains(e.Cause, "cannot unmarshal") {
		t.Errorf("message %q (%v)", w.message(), err)
	}
}

func TestLongCausesAreCutToFitTheMessage(t *testing.T) {
	for _, cause := range []string{
		strings.Repeat("a", 10000),
		strings.Repeat(`"`, 5000),    // escaping doubles the length
		strings.Repeat("é", 3000),    // two bytes a rune: the cut stays on a rune boundary
		strings.Repeat("\x01", 3000), // \u0001: six bytes a byte
	} {
		b := errorMessage(&Error{Name: "Big", Cause: cause})
		if len(b) > MaxMessageBytes {
			t.Errorf("%d bytes, more than %d", len(b), MaxMessageBytes)
		}
		var e struct{ Error, Cause string }
		if err := json.Unmarshal(b, &e); err != nil || e.Error != "Big" || !strings.HasSuffix(e.Cause, "...") {
			t.Errorf("message %.80q does not decode to the named error with a cut cause (%v)", b, err)
		}
		if len(b) < MaxMessageBytes-16 {
			t.Errorf("cut to %d bytes, far below the limit", len(b))
		}
	}
}

func TestErrorText(t *testing.T) {
	if got := Errorf("A", "b %d", 1).Error(); got != "A: b 1" {
		t.Errorf("got %q", got)
	}
	if got := (&Error{Name: "A"}).Error(); got != "A" {
		t.Errorf("got %q", got)
	}
}
