package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/kstates/kstates/internal/engine/asl"
)

// readInput reads a file, or stdin when name is "-".
func readInput(env *Env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(env.Stdin)
	}
	return os.ReadFile(name)
}

// loadDefinition reads and parses a definition file (JSON or YAML). It
// returns the definition (nil when it could not be parsed at all), the
// diagnostics, and an error only when the file could not be read.
func loadDefinition(env *Env, file, execType string) (*asl.Definition, []asl.Diagnostic, error) {
	data, err := readInput(env, file)
	if err != nil {
		return nil, nil, fmt.Errorf("reading definition: %w", err)
	}
	def, diags := parseDefinition(data, execType)
	return def, diags, nil
}

// hasErrors reports whether diags holds an ERROR (a missing severity counts
// as an error).
func hasErrors(diags []asl.Diagnostic) bool {
	for _, d := range diags {
		if d.Severity != asl.SeverityWarning {
			return true
		}
	}
	return false
}

// countErrors returns the numbers of errors and warnings in diags.
func countErrors(diags []asl.Diagnostic) (errs, warns int) {
	for _, d := range diags {
		if d.Severity == asl.SeverityWarning {
			warns++
		} else {
			errs++
		}
	}
	return errs, warns
}

// formatDiagnostic renders one diagnostic as "LOCATION CODE MESSAGE".
func formatDiagnostic(d asl.Diagnostic) string {
	loc := d.Location
	if loc == "" {
		loc = "/"
	}
	s := loc + " " + d.Code + " " + d.Message
	if d.Severity == asl.SeverityWarning {
		s += " (warning)"
	}
	return s
}

// parseDefinition parses a definition for the given execution type
// (STANDARD or EXPRESS).
func parseDefinition(data []byte, execType string) (*asl.Definition, []asl.Diagnostic) {
	return asl.Parse(data, asl.Options{Type: execType})
}
