package history

import (
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	kstatesv1alpha1 "github.com/kstates/kstates/api/v1alpha1"
	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
)

func TestConvertKeepsAWSShape(t *testing.T) {
	def, _ := asl.Parse([]byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}`), asl.Options{})
	p, err := engine.Compile(def)
	if err != nil {
		t.Fatal(err)
	}
	res := p.Run(t.Context(), map[string]any{"k": int64(1)}, engine.RunOptions{Clock: engine.NewVirtualClock(time.Unix(0, 0))})
	evs, err := Convert(res.History)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "ExecutionStarted,PassStateEntered,PassStateExited,ExecutionSucceeded" {
		t.Fatalf("types %v", types)
	}
	if evs[1].StateName != "A" || evs[1].ID != 2 || evs[1].PreviousEventID != 0 || !strings.Contains(string(evs[1].Details.Raw), `"name":"A"`) {
		t.Errorf("entered event %+v %s", evs[1], evs[1].Details.Raw)
	}
}

func events(n, size int) []kstatesv1alpha1.HistoryEvent {
	out := make([]kstatesv1alpha1.HistoryEvent, n)
	for i := range out {
		out[i] = kstatesv1alpha1.HistoryEvent{ID: int64(i + 1), Type: "PassStateEntered",
			Details: &apiextensionsv1.JSON{Raw: []byte(`"` + strings.Repeat("x", size) + `"`)}}
	}
	return out
}

func TestSealCount(t *testing.T) {
	cases := []struct {
		reason   string
		window   []kstatesv1alpha1.HistoryEvent
		incoming int
		want     int
	}{
		{"a window within budget is not sealed", events(kstatesv1alpha1.WindowEvents-4, 10), 2, 0},
		{"an empty window is never sealed", nil, 60, 0},
		{"over the event budget, the whole committed window (one window's worth) is sealed",
			events(kstatesv1alpha1.WindowEvents-1, 10), 3, kstatesv1alpha1.WindowEvents - 1},
		{"over the byte budget, the prefix within the byte budget (4 KiB / ~1.1 KiB) is sealed", events(6, 1000), 1, 3},
	}
	for _, c := range cases {
		if got := SealCount(c.window, events(c.incoming, 10)); got != c.want {
			t.Errorf("%s: sealed %d, want %d", c.reason, got, c.want)
		}
	}
}
