// Package cli implements the kstates command line: a small dispatcher of
// subcommands (validate, run, ...), each parsing its own flags with the
// standard library. Commands write to the streams they are given and return
// an exit code, so tests run them in-process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Exit codes.
const (
	// ExitOK: the definition is valid, or the execution succeeded.
	ExitOK = 0
	// ExitFailed: the definition is invalid, or the execution did not succeed.
	ExitFailed = 1
	// ExitUsage: bad flags or arguments, unreadable files, an invalid
	// definition given to run.
	ExitUsage = 2
	// ExitInterrupted: a signal stopped a command that did not end by itself.
	ExitInterrupted = 130
)

// interruptGrace is how long a cancelled command may take to end.
const interruptGrace = 2 * time.Second

// Env is what a command runs with.
type Env struct {
	// Prog is the program name as the user typed it ("kstates" or
	// "kubectl states").
	Prog   string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Ctx is cancelled on SIGINT/SIGTERM.
	Ctx context.Context
}

// Command is one subcommand.
type Command struct {
	Name    string
	Summary string
	Run     func(env *Env, args []string) int
}

// commands lists the subcommands; cluster commands will join them.
var commands = map[string]*Command{}

func register(c *Command) { commands[c.Name] = c }

// Main runs the CLI with argv (argv[0] is the program path) and returns the
// exit code.
func Main(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first SIGINT/SIGTERM cancels the run (the execution ends ABORTED);
	// if it has not ended a grace period later, or on a second signal, exit.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; !ok {
			return
		}
		cancel()
		select {
		case <-sigs:
		case <-time.After(interruptGrace):
		}
		fmt.Fprintln(stderr, "kstates: interrupted")
		os.Exit(ExitInterrupted)
	}()
	prog := "kstates"
	if len(argv) > 0 {
		if base := filepath.Base(argv[0]); strings.HasPrefix(base, "kubectl-") {
			prog = "kubectl " + strings.TrimPrefix(base, "kubectl-")
		}
		argv = argv[1:]
	}
	env := &Env{Prog: prog, Stdin: stdin, Stdout: stdout, Stderr: stderr, Ctx: ctx}
	return Dispatch(env, argv)
}

// Dispatch runs the subcommand named by args[0].
func Dispatch(env *Env, args []string) int {
	if len(args) == 0 {
		usage(env, env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.Run(env, []string{"-h"})
			}
		}
		usage(env, env.Stdout)
		return ExitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.Stderr, "%s: unknown command %q\n\n", env.Prog, args[0])
		usage(env, env.Stderr)
		return ExitUsage
	}
	return c.Run(env, args[1:])
}

func usage(env *Env, w io.Writer) {
	fmt.Fprintf(w, "Usage: %s COMMAND [flags]\n\nCommands:\n", env.Prog)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	width := 10
	for _, n := range names {
		width = max(width, len(n))
	}
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, commands[n].Summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND -h' for a command's flags.\n", env.Prog)
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(env *Env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "Usage: %s %s %s\n\nFlags:\n", env.Prog, name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// errHelp is returned by parseArgs when -h was given.
var errHelp = flag.ErrHelp

// parseArgs parses flags that may come before or after the positional
// arguments ("run FILE --history" as well as "run --history FILE"). Arguments
// after "--" are positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at the first non-flag argument or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageError prints msg and the command's usage line and returns ExitUsage.
func usageError(env *Env, fs *flag.FlagSet, format string, a ...any) int {
	fmt.Fprintf(env.Stderr, "%s %s: %s\n", env.Prog, fs.Name(), fmt.Sprintf(format, a...))
	fmt.Fprintf(env.Stderr, "Run '%s %s -h' for usage.\n", env.Prog, fs.Name())
	return ExitUsage
}

// flagError turns a parseArgs error into an exit code.
func flagError(err error) int {
	if errors.Is(err, errHelp) {
		return ExitOK
	}
	return ExitUsage
}
