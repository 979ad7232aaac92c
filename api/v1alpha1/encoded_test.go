package v1alpha1

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEventWindowIsAListOfJSONLines(t *testing.T) {
	at := metav1.NewMicroTime(time.Date(2026, 11, 28, 12, 0, 0, 123456000, time.UTC))
	h := ExecutionHistory{EventCount: 2, Events: EventWindow{
		{ID: 1, Timestamp: at, Type: "ExecutionStarted", Details: &apiextensionsv1.JSON{Raw: []byte(`{"input":"{\"a\":1}"}`)}},
		{ID: 2, PreviousEventID: 1, Timestamp: at, Type: "PassStateEntered", StateName: "A\nB"},
	}}
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var wire struct {
		Events []string `json:"events"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		t.Fatalf("events are not a list of strings: %s: %v", b, err)
	}
	want := `{"id":1,"timestamp":"2026-11-28T12:00:00.123456Z","type":"ExecutionStarted","details":{"input":"{\"a\":1}"}}`
	if len(wire.Events) != 2 || wire.Events[0] != want || strings.Contains(wire.Events[1], "\n") {
		t.Fatalf("events on the wire: %q", wire.Events)
	}
	var back ExecutionHistory
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Events) != 2 || back.Events[1].StateName != "A\nB" || !back.Events[0].Timestamp.Equal(&at) ||
		string(back.Events[0].Details.Raw) != `{"input":"{\"a\":1}"}` {
		t.Errorf("round trip: %+v", back.Events)
	}
}

func TestEventWindowReads(t *testing.T) {
	cases := []struct {
		reason, in string
		ids        []int64
		err        string
	}{
		{"events written as objects", `[{"id":1,"timestamp":"2026-11-28T12:00:00.000001Z","type":"ExecutionStarted"}]`, []int64{1}, ""},
		{"a mix of lines and objects", `["{\"id\":1,\"type\":\"A\",\"timestamp\":null}",{"id":2,"type":"B","timestamp":null}]`, []int64{1, 2}, ""},
		{"null", `null`, nil, ""},
		{"an empty list", `[]`, []int64{}, ""},
		{"a line that is not JSON names the event", `["{\"id\":1}","{not json"]`, nil, "history event 1"},
		{"an object", `{"id":1}`, nil, "history events"},
	}
	for _, c := range cases {
		var w EventWindow
		err := json.Unmarshal([]byte(c.in), &w)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want an error with %q", c.reason, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.reason, err)
			continue
		}
		var ids []int64
		for _, e := range w {
			ids = append(ids, e.ID)
		}
		if len(ids) != len(c.ids) || (c.ids == nil) != (w == nil) {
			t.Errorf("%s: got %v (nil %v), want %v", c.reason, ids, w == nil, c.ids)
			continue
		}
		for i := range ids {
			if ids[i] != c.ids[i] {
				t.Errorf("%s: got %v, want %v", c.reason, ids, c.ids)
			}
		}
	}
}

func TestJSONText(t *testing.T) {
	s := ExecutionStatus{EngineState: &JSONText{Raw: []byte(`{"status":"RUNNING","root":{"state":"A"}}`)}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"history":{},"engineState":"{\"status\":\"RUNNING\",\"root\":{\"state\":\"A\"}}"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	cases := []struct {
		reason, in, raw, err string
	}{
		{"a string of JSON text", `"{\"a\":[1,2]}"`, `{"a":[1,2]}`, ""},
		{"a document written as JSON", `{"a": [1, 2]}`, `{"a": [1, 2]}`, ""},
		{"null", `null`, ``, ""},
		{"a string that is not JSON", `"{\"a\":"`, ``, "not JSON text"},
	}
	for _, c := range cases {
		var got JSONText
		err := json.Unmarshal([]byte(c.in), &got)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: got %v, want an error with %q", c.reason, err, c.err)
			}
			continue
		}
		if err != nil || string(got.Raw) != c.raw {
			t.Errorf("%s: got %q, %v; want %q", c.reason, got.Raw, err, c.raw)
		}
	}
}
