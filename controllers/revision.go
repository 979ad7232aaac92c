package controllers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"sigs.k8s.io/yaml"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
)

// definitionText returns the definition as the user wrote it: the inline object (JSON, as the
// API server stores it) or the definitionString text.
func definitionText(spec *kstatesv1alpha1.StateMachineSpec) []byte {
	if spec.Definition != nil && len(spec.Definition.Raw) > 0 {
		return spec.Definition.Raw
	}
	return []byte(spec.DefinitionString)
}

// canonicalDefinition converts a valid definition (JSON or YAML text) into canonical JSON:
// compact, object keys sorted, numbers written exactly as in the text (json.Number). Revisions
// store this text, so two spellings of one document (YAML and JSON, other key order or
// spacing) are one revision.
func canonicalDefinition(text []byte) (string, error) {
	v, err := decodeExact(text)
	if err != nil {
		// Not JSON: YAML (asl.Parse accepted it already).
		data, yerr := yaml.YAMLToJSON(text)
		if yerr != nil {
			return "", fmt.Errorf("converting the YAML definition to JSON: %w", yerr)
		}
		if v, err = decodeExact(data); err != nil {
			return "", fmt.Errorf("reading the converted definition: %w", err)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// decodeExact decodes one JSON document keeping numbers as their text.
func decodeExact(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON document")
	}
	return v, nil
}

// revisionContent is everything in a StateMachine's spec that changes how an execution runs.
// Its canonical JSON is what the revision hash covers.
type revisionContent struct {
	Definition         string                           `json:"definition"`
	Type               kstatesv1alpha1.StateMachineType `json:"type"`
	Bindings           []kstatesv1alpha1.TaskBinding    `json:"bindings,omitempty"`
	ServiceAccountName string                           `json:"serviceAccountName,omitempty"`
	TaskDefaults       *kstatesv1alpha1.TaskPodDefaults `json:"taskDefaults,omitempty"`
	RoleArn            string                           `json:"roleArn,omitempty"`
}

// newRevisionSpec builds the StateMachineRevision spec (without its sequence) for the given
// canonical definition, and its hash.
func newRevisionSpec(sm *kstatesv1alpha1.StateMachine, canonical string) (kstatesv1alpha1.StateMachineRevisionSpec, error) {
	typ := sm.Spec.Type
	if typ == "" {
		typ = kstatesv1alpha1.StateMachineTypeStandard
	}
	c := revisionContent{
		Definition: canonical, Type: typ, Bindings: sm.Spec.Bindings,
		ServiceAccountName: sm.Spec.ServiceAccountName, TaskDefaults: sm.Spec.TaskDefaults,
		RoleArn: sm.Spec.RoleArn,
	}
	// encoding/json writes struct fields in order and map keys sorted: canonical.
	b, err := json.Marshal(c)
	if err != nil {
		return kstatesv1alpha1.StateMachineRevisionSpec{}, err
	}
	sum := sha256.Sum256(b)
	return kstatesv1alpha1.StateMachineRevisionSpec{
		StateMachineName:   sm.Name,
		Hash:               hex.EncodeToString(sum[:]),
		Definition:         canonical,
		Type:               typ,
		Bindings:           sm.Spec.Bindings,
		ServiceAccountName: sm.Spec.ServiceAccountName,
		TaskDefaults:       sm.Spec.TaskDefaults,
		RoleArn:            sm.Spec.RoleArn,
	}, nil
}
