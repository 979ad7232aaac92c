package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
)

func init() {
	register(&Command{Name: "run", Summary: "run an execution in memory, with mocked tasks", Run: runRun})
}

// runFlags are run's flags.
type runFlags struct {
	input, inputFile string
	context          string
	mocks, testCase  string
	clock            string
	output           string
	history          bool
}

func runRun(env *Env, args []string) int {
	fs := newFlagSet(env, "run", "FILE [flags]")
	var f runFlags
	fs.StringVar(&f.input, "input", "", "execution input as JSON (default {})")
	fs.StringVar(&f.inputFile, "input-file", "", "read the execution input from a JSON file (\"-\" for stdin)")
	fs.StringVar(&f.context, "context", "", `context-object overrides as JSON: {"Execution":{"Id","Name","RoleArn","StartTime"},"StateMachine":{"Id","Name"}}`)
	fs.StringVar(&f.mocks, "mocks", "", "mock file giving Task results per state (kstates or Step Functions Local format)")
	fs.StringVar(&f.testCase, "test-case", "", "test case of a Step Functions Local mock file")
	fs.StringVar(&f.clock, "clock", "real", "virtual: Wait states, retry back-off and timeouts take no time; real: the wall clock")
	fs.StringVar(&f.output, "o", "text", "output format: text or json")
	fs.BoolVar(&f.history, "history", false, "print the execution history (a table; with -o json a \"history\" array)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 1 {
		return usageError(env, fs, "expected one FILE argument (\"-\" for stdin), got %d", len(pos))
	}
	if f.output != "text" && f.output != "json" {
		return usageError(env, fs, "-o must be text or json, not %q", f.output)
	}
	if f.clock != "virtual" && f.clock != "real" {
		return usageError(env, fs, "--clock must be virtual or real, not %q", f.clock)
	}
	if f.input != "" && f.inputFile != "" {
		return usageError(env, fs, "give --input or --input-file, not both")
	}
	if f.testCase != "" && f.mocks == "" {
		return usageError(env, fs, "--test-case needs --mocks")
	}
	stdinUsers := 0
	for _, name := range []string{pos[0], f.inputFile, f.mocks} {
		if name == "-" {
			stdinUsers++
		}
	}
	if stdinUsers > 1 {
		return usageError(env, fs, "only one of the definition, --input-file and --mocks can be read from stdin (\"-\")")
	}

	fail := func(format string, a ...any) int {
		fmt.Fprintf(env.Stderr, "%s run: %s\n", env.Prog, fmt.Sprintf(format, a...))
		return ExitUsage
	}

	// Input.
	var input any = map[string]any{}
	switch {
	case f.input != "":
		if input, err = parseJSON([]byte(f.input)); err != nil {
			return fail("--input: %v", err)
		}
	case f.inputFile != "":
		data, err := readInput(env, f.inputFile)
		if err != nil {
			return fail("--input-file: %v", err)
		}
		if input, err = parseJSON(data); err != nil {
			return fail("--input-file %s: %v", f.inputFile, err)
		}
	}

	// Context overrides.
	var overrides engine.ContextOverrides
	if f.context != "" {
		if overrides, err = parseContext(f.context); err != nil {
			return fail("--context: %v", err)
		}
	}

	// Clock: the virtual one is runVirtual's; mock delays sleep on the real
	// one.
	var clock engine.Clock = engine.RealClock{}

	// Mocks.
	tasks := noMocks(clock)
	if f.mocks != "" {
		data, err := readInput(env, f.mocks)
		if err != nil {
			return fail("--mocks: %v", err)
		}
		sel := MockSelection{StateMachine: overrides.StateMachineName, TestCase: f.testCase}
		if tasks, err = ParseMocks(data, f.mocks, sel, clock); err != nil {
			return fail("--mocks %v", err)
		}
	}

	// Definition.
	def, diags, err := loadDefinition(env, pos[0], "STANDARD")
	if err != nil {
		return fail("%v", err)
	}
	if def == nil || hasErrors(diags) {
		fmt.Fprintf(env.Stderr, "%s run: %s is not a valid state machine:\n", env.Prog, pos[0])
		for _, d := range diags {
			fmt.Fprintln(env.Stderr, "  "+formatDiagnostic(d))
		}
		return ExitUsage
	}
	prog, err := engine.Compile(def)
	if err != nil {
		return fail("%s: %v", pos[0], err)
	}

	opts := engine.RunOptions{Clock: clock, Tasks: tasks, Context: overrides, NoHistory: !f.history}
	var res *engine.Result
	if f.clock == "virtual" {
		start := overrides.StartTime
		if start.IsZero() {
			start = time.Now().UTC().Truncate(time.Millisecond)
		}
		res = runVirtual(env.Ctx, prog, input, opts, tasks, start)
	} else {
		res = prog.Run(env.Ctx, input, opts)
	}

	if f.output == "json" {
		writeResultJSON(env.Stdout, res, f.history)
	} else {
		if f.history {
			writeHistoryTable(env.Stdout, res.History)
			fmt.Fprintln(env.Stdout)
		}
		writeResultText(env.Stdout, res)
	}
	if res.Status == engine.StatusSucceeded {
		return ExitOK
	}
	return ExitFailed
}

// writeResultJSON prints {"status","output","error","cause"} (absent fields
// are null) and, with history, "history": the events as GetExecutionHistory
// returns them. Payloads are printed as AWS prints them (value.Marshal).
func writeResultJSON(w io.Writer, res *engine.Result, history bool) {
	var b bytes.Buffer
	b.WriteString(`{"status":`)
	b.Write(jsonString(res.Status))
	b.WriteString(`,"output":`)
	if res.Status == engine.StatusSucceeded {
		b.Write(value.Marshal(res.Output))
	} else {
		b.WriteString("null")
	}
	b.WriteString(`,"error":`)
	b.Write(nullableString(res.Error, res.Status != engine.StatusSucceeded))
	b.WriteString(`,"cause":`)
	b.Write(nullableString(res.Cause, res.Status != engine.StatusSucceeded))
	if history {
		b.WriteString(`,"history":`)
		events := res.History
		if events == nil {
			events = []engine.HistoryEvent{}
		}
		h, err := json.Marshal(events)
		if err != nil {
			// Never lose the result for a history that will not encode.
			h = []byte("[]")
			b.WriteString(`,"historyError":`)
			b.Write(jsonString(err.Error()))
		}
		b.Write(h)
	}
	b.WriteString("}\n")
	w.Write(b.Bytes())
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s)
	return b
}

// nullableString is s as JSON, or null when it is empty and not wanted.
func nullableString(s string, keepEmpty bool) []byte {
	if s == "" && !keepEmpty {
		return []byte("null")
	}
	return jsonString(s)
}

// writeResultText prints the result for people.
func writeResultText(w io.Writer, res *engine.Result) {
	fmt.Fprintf(w, "Status: %s\n", res.Status)
	if res.Status == engine.StatusSucceeded {
		fmt.Fprintf(w, "Output: %s\n", indentJSON(value.Marshal(res.Output)))
		return
	}
	fmt.Fprintf(w, "Error:  %s\n", res.Error)
	if res.Cause != "" {
		fmt.Fprintf(w, "Cause:  %s\n", strings.ReplaceAll(res.Cause, "\n", "\n        "))
	}
}

// indentJSON indents small documents and leaves large ones on one line.
func indentJSON(b []byte) string {
	if len(b) > 64*1024 {
		return string(b)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return string(b)
	}
	return out.String()
}
