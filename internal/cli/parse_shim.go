package cli

import (
	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/value"
	"sigs.k8s.io/yaml"
)

// parseDefinition parses a definition for the given execution type
// (STANDARD or EXPRESS). TEMPORARY: asl.Parse is not there yet; this checks
// only that the document is JSON or YAML.
var parseDefinition = func(data []byte, execType string) (*asl.Definition, []asl.Diagnostic) {
	j, err := yaml.YAMLToJSON(data)
	if err == nil {
		_, err = value.Parse(j)
	}
	if err != nil {
		return nil, []asl.Diagnostic{{Code: "INVALID_JSON_DESCRIPTION", Message: err.Error(), Severity: asl.SeverityError}}
	}
	return nil, []asl.Diagnostic{{Code: "SCHEMA_VALIDATION_FAILED", Message: "asl.Parse is not implemented yet", Severity: asl.SeverityError}}
}
