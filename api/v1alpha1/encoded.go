package v1alpha1

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Why some status fields are JSON text in a string: every status write of an Execution makes
// kube-apiserver decode, merge, validate against the schema, track the managed fields of,
// encode and send to its watchers the whole object, and each of those walks every JSON node.
// The history window and the engine state are most of an Execution's nodes, and only the
// controller writes them; as strings they are one node each (a status write costs about a
// third less API-server CPU; docs/benchmarks.md). Go code sees the same types as before.

// EventWindow is the history window of an Execution's status. In Go it is a list of events; in
// the API object each event is a string holding the event as one line of JSON, e.g.
// {"id":2,"timestamp":"...","type":"PassStateEntered","stateName":"S0","details":{...}}, so
// that `kubectl get execution -o yaml` shows one event a line. Decoding also accepts events
// written as objects.
type EventWindow []HistoryEvent

// MarshalJSON writes the events as an array of JSON strings.
func (w EventWindow) MarshalJSON() ([]byte, error) {
	if w == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range w {
		line, err := json.Marshal(&w[i])
		if err != nil {
			return nil, err
		}
		s, err := json.Marshal(string(line))
		if err != nil {
			return nil, err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(s)
	}
	b.WriteByte(']')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an array whose items are events encoded as JSON strings, or objects.
func (w *EventWindow) UnmarshalJSON(data []byte) error {
	if bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		*w = nil
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return fmt.Errorf("history events: %w", err)
	}
	out := make(EventWindow, len(items))
	for i, item := range items {
		item = bytes.TrimSpace(item)
		if len(item) > 0 && item[0] == '"' {
			var line string
			if err := json.Unmarshal(item, &line); err != nil {
				return fmt.Errorf("history event %d: %w", i, err)
			}
			item = []byte(line)
		}
		if err := json.Unmarshal(item, &out[i]); err != nil {
			return fmt.Errorf("history event %d: %w", i, err)
		}
	}
	*w = out
	return nil
}

// JSONText is a JSON document kept in the API object as a string of JSON text: opaque to the
// API server (one node), readable as JSON by anyone else. Raw holds the document itself.
// Decoding also accepts the document written as JSON (not in a string).
// +kubebuilder:validation:Type=string
type JSONText struct {
	Raw []byte `json:"-"`
}

// MarshalJSON writes Raw as a JSON string ("null" when empty).
func (t JSONText) MarshalJSON() ([]byte, error) {
	if len(t.Raw) == 0 {
		return []byte("null"), nil
	}
	return json.Marshal(string(t.Raw))
}

// UnmarshalJSON reads a string of JSON text, or a JSON document.
func (t *JSONText) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case bytes.Equal(data, []byte("null")):
		t.Raw = nil
	case len(data) > 0 && data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		if !json.Valid([]byte(s)) {
			return fmt.Errorf("not JSON text: %.40q", s)
		}
		t.Raw = []byte(s)
	default:
		t.Raw = append([]byte(nil), data...)
	}
	return nil
}
