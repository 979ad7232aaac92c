// Package history converts the engine's history events into the API's and decides when the
// Execution's window of recent events is sealed into a HistoryChunk (docs/operator.md,
// "Storage design"). It is pure: the controller does the reads and writes.
package history

import (
	"encoding/json"
	"fmt"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
)

// Convert turns engine events into API events: AWS's shape, the details object (the value
// under the type's "...EventDetails" key) kept as raw JSON, and the state name taken from
// the details when they name one.
func Convert(events []engine.HistoryEvent) ([]kstatesv1alpha1.HistoryEvent, error) {
	out := make([]kstatesv1alpha1.HistoryEvent, 0, len(events))
	for _, e := range events {
		b, err := e.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("history event %d: %w", e.ID, err)
		}
		ev := kstatesv1alpha1.HistoryEvent{
			ID: e.ID, PreviousEventID: e.PreviousEventID,
			Timestamp: metav1.NewMicroTime(e.Timestamp.UTC().Truncate(time.Microsecond)), Type: e.Type,
		}
		if key := engine.DetailsKey(e.Type); key != "" {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(b, &fields); err != nil {
				return nil, fmt.Errorf("history event %d: %w", e.ID, err)
			}
			if d, ok := fields[key]; ok && len(d) > 0 && string(d) != "null" {
				ev.Details = &apiextensionsv1.JSON{Raw: d}
				var named struct {
					Name string `json:"name"`
				}
				if json.Unmarshal(d, &named) == nil && len(named.Name) <= 256 {
					ev.StateName = named.Name
				}
			}
		}
		out = append(out, ev)
	}
	return out, nil
}

// Size is the approximate stored size of an event in bytes.
func Size(e *kstatesv1alpha1.HistoryEvent) int {
	n := 120 + len(e.Type) + len(e.StateName)
	if e.Details != nil {
		n += len(e.Details.Raw)
	}
	if e.DetailsRef != nil {
		n += 100 + len(e.DetailsRef.Name)
	}
	return n
}

// SealCount says how many of the oldest events of the committed window must be sealed into a
// chunk before adding the incoming events: 0 while the window plus the incoming events stay
// within WindowEvents and WindowBytes. It seals the longest prefix of the committed window
// that is at most one window's worth (at least one event), so that a chunk is about one
// window and the decision depends only on the committed status (a retry after a crash makes
// the same chunk).
func SealCount(window []kstatesv1alpha1.HistoryEvent, incoming []kstatesv1alpha1.HistoryEvent) int {
	total := len(window) + len(incoming)
	bytes := 0
	for i := range window {
		bytes += Size(&window[i])
	}
	for i := range incoming {
		bytes += Size(&incoming[i])
	}
	if len(window) == 0 || (total <= kstatesv1alpha1.WindowEvents && bytes <= kstatesv1alpha1.WindowBytes) {
		return 0
	}
	n, size := 0, 0
	for n < len(window) {
		s := Size(&window[n])
		if n > 0 && (n+1 > kstatesv1alpha1.WindowEvents || size+s > kstatesv1alpha1.WindowBytes) {
			break
		}
		n++
		size += s
	}
	return n
}
