package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kstates/kstates/internal/engine/asl"
)

func init() {
	register(&Command{Name: "validate", Summary: "check a definition (JSON or YAML) and print its diagnostics", Run: runValidate})
}

// validateResult is validate's -o json document.
type validateResult struct {
	Result      string           `json:"result"` // OK or FAIL
	Diagnostics []asl.Diagnostic `json:"diagnostics"`
}

func runValidate(env *Env, args []string) int {
	fs := newFlagSet(env, "validate", "FILE")
	typ := fs.String("type", "STANDARD", "execution type the definition is checked for: STANDARD or EXPRESS")
	out := fs.String("o", "text", "output format: text or json")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagError(err)
	}
	if len(pos) != 1 {
		return usageError(env, fs, "expected one FILE argument (\"-\" for stdin), got %d", len(pos))
	}
	*typ = strings.ToUpper(*typ)
	if *typ != "STANDARD" && *typ != "EXPRESS" {
		return usageError(env, fs, "--type must be STANDARD or EXPRESS, not %q", *typ)
	}
	if *out != "text" && *out != "json" {
		return usageError(env, fs, "-o must be text or json, not %q", *out)
	}
	_, diags, err := loadDefinition(env, pos[0], *typ)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s validate: %v\n", env.Prog, err)
		return ExitUsage
	}
	invalid := hasErrors(diags)
	if *out == "json" {
		r := validateResult{Result: "OK", Diagnostics: diags}
		if invalid {
			r.Result = "FAIL"
		}
		if r.Diagnostics == nil {
			r.Diagnostics = []asl.Diagnostic{}
		}
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintf(env.Stdout, "%s\n", b)
	} else {
		for _, d := range diags {
			fmt.Fprintln(env.Stdout, formatDiagnostic(d))
		}
		errs, warns := countErrors(diags)
		switch {
		case invalid:
			fmt.Fprintf(env.Stderr, "%s: invalid (%d errors, %d warnings)\n", pos[0], errs, warns)
		case warns > 0:
			fmt.Fprintf(env.Stderr, "%s: valid (%d warnings)\n", pos[0], warns)
		default:
			fmt.Fprintf(env.Stderr, "%s: valid\n", pos[0])
		}
	}
	if invalid {
		return ExitFailed
	}
	return ExitOK
}
