package enginestate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/asl"
	"github.com/kstates/kstates/internal/engine/value"
)

// mapState steps a Map of n iterations, each building a value of about size bytes, until
// every iteration has built it, and returns the program and the state.
func mapState(t *testing.T, n, size int) (*engine.Program, *engine.Execution) {
	t.Helper()
	def := fmt.Sprintf(`{"StartAt":"Items","States":{
		"Items":{"Type":"Pass","Parameters":{"items.$":"States.ArrayRange(1, %d, 1)"},"Next":"Each"},
		"Each":{"Type":"Map","ItemsPath":"$.items","End":true,"ItemProcessor":{"StartAt":"Big","States":{
			"Big":{"Type":"Pass","Parameters":{"i.$":"$","s":%q,"o":{"$kstatesRef":"user data"}},"Next":"Hold"},
			"Hold":{"Type":"Wait","Seconds":60,"End":true}}}}}}`, n, strings.Repeat("x", size))
	d, diags := asl.Parse([]byte(def), asl.Options{})
	if d == nil || asl.HasErrors(diags) {
		t.Fatal(diags)
	}
	p, err := engine.Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	ex := p.NewExecution(map[string]any{}, engine.ContextOverrides{}, now)
	if _, _, err := engine.Step(p, ex, engine.Event{Kind: engine.EventStart}, now, &engine.Env{}); err != nil {
		t.Fatal(err)
	}
	return p, ex
}

type store map[string][]byte

func (s store) put(e *Encoded) int {
	n := 0
	for _, p := range e.Parts {
		if _, ok := s[p.Hash]; !ok {
			s[p.Hash] = p.Data()
			n++
		}
	}
	return n
}

func (s store) fetch(h string) ([]byte, error) {
	b, ok := s[h]
	if !ok {
		return nil, fmt.Errorf("part %s is missing", h)
	}
	return b, nil
}

// A Map of 1,000 iterations each holding 20 KiB is stored as a root of a few KiB, chunks of
// threads and one part per value; it loads back (from a cold codec too) equal to the engine's
// own serialisation; user data that looks like a reference stays data; and storing the state
// again after one thread moved writes only that thread's chunk.
func TestSplitAndJoinALargeMap(t *testing.T) {
	p, ex := mapState(t, 1000, 20000)
	want, err := ex.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	c := NewCodec()
	enc, err := c.Encode(ex)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := ex.Marshal()
	if !bytes.Equal(again, want) {
		t.Fatal("Encode changed the state")
	}
	if len(enc.Root) > 16<<10 {
		t.Errorf("root document of %d bytes, want at most 16 KiB", len(enc.Root))
	}
	s := store{}
	s.put(enc)
	values, chunks, largest := 0, 0, 0
	for _, pt := range enc.Parts {
		largest = max(largest, len(pt.Data()))
		switch pt.Kind {
		case KindValue:
			values++
		case KindThreads:
			chunks++
		}
	}
	if values != 1000 || chunks != 32 || largest > 64<<10 {
		t.Errorf("%d values, %d chunks of threads, largest part %d bytes; want 1000, 32, under 64 KiB", values, chunks, largest)
	}
	for name, codec := range map[string]*Codec{"warm": c, "cold": NewCodec()} {
		got, hashes, err := codec.Decode(enc.Root, s.fetch)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(hashes) != len(enc.Parts) {
			t.Errorf("%s: %d parts used, want %d", name, len(hashes), len(enc.Parts))
		}
		b, _ := got.Marshal()
		if !bytes.Equal(b, want) {
			t.Errorf("%s: the loaded state differs from the stored one (%d bytes, want %d)", name, len(b), len(want))
		}
	}
	// The thread tree alone (the CLI's get-task-token) needs the chunks, not the values.
	chunksOnly := store{}
	for _, pt := range enc.Parts {
		if pt.Kind != KindValue {
			chunksOnly[pt.Hash] = pt.Data()
		}
	}
	tree, err := NewCodec().DecodeTree(enc.Root, chunksOnly.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(tree.Root.Children); n != 1000 {
		t.Errorf("the tree has %d iterations, want 1000", n)
	}
	// One transition (the next ready thread enters Hold): one chunk and the root change.
	got, _, err := c.Decode(enc.Root, s.fetch)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(0, 0)
	if _, _, err := engine.Step(p, got, engine.Event{Kind: engine.EventContinue}, now, &engine.Env{MaxTransitions: 1}); err != nil {
		t.Fatal(err)
	}
	enc2, err := c.Encode(got)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.put(enc2); n > 2 {
		t.Errorf("one transition wrote %d new parts, want at most 2 (a chunk, a value)", n)
	}
	for _, pt := range enc2.Parts {
		if pt.Kind == KindValue && pt.data != nil {
			t.Errorf("value part %s was encoded again", pt.Hash)
		}
	}
	// A state without large parts is the engine's own document (older states load as is).
	small, _, err := NewCodec().Decode([]byte(`{"status":"RUNNING","root":{"id":"","index":0,"state":"A","phase":"ready","input":{"$kstatesRef":"","value":{"$kstatesRef":1}},"lastEventId":0},"context":{}}`), s.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if b := value.Marshal(small.Root.Input.V); string(b) != `{"$kstatesRef":1}` {
		t.Errorf("escaped user data loaded as %s", b)
	}

}

// A missing part, a part whose data does not match its hash, and a table naming a thread that
// does not exist are errors naming what is wrong.
func TestDecodeErrors(t *testing.T) {
	_, ex := mapState(t, 40, 10000)
	c := NewCodec()
	enc, err := c.Encode(ex)
	if err != nil {
		t.Fatal(err)
	}
	s := store{}
	s.put(enc)
	var victim string
	for _, p := range enc.Parts {
		if p.Kind == KindValue {
			victim = p.Hash
			break
		}
	}
	broken := store{}
	for h, b := range s {
		broken[h] = b
	}
	delete(broken, victim)
	if _, _, err := NewCodec().Decode(enc.Root, broken.fetch); err == nil || !strings.Contains(err.Error(), victim) {
		t.Errorf("missing part: %v", err)
	}
	broken[victim] = []byte(`"other"`)
	if _, _, err := NewCodec().Decode(enc.Root, broken.fetch); err == nil || !strings.Contains(err.Error(), "does not match its hash") {
		t.Errorf("corrupt part: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(enc.Root, &doc); err != nil {
		t.Fatal(err)
	}
	doc["kstatesParts"] = map[string]any{"children": map[string]any{"/9.9": []any{}}}
	b, _ := json.Marshal(doc)
	if _, _, err := NewCodec().Decode(b, s.fetch); err == nil || !strings.Contains(err.Error(), `thread "/9.9"`) {
		t.Errorf("bad table: %v", err)
	}
}

// BenchmarkTransitionOfALargeMap measures loading, stepping and storing again the state of a
// Map of 1,000 iterations each holding 100 KiB (the limit), with a warm codec.
func BenchmarkTransitionOfALargeMap(b *testing.B) {
	t := &testing.T{}
	p, ex := mapState(t, 1000, 100<<10)
	c := NewCodec()
	enc, err := c.Encode(ex)
	if err != nil {
		b.Fatal(err)
	}
	s := store{}
	s.put(enc)
	now := time.Unix(0, 0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		got, _, err := c.Decode(enc.Root, s.fetch)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := engine.Step(p, got, engine.Event{Kind: engine.EventContinue}, now, &engine.Env{MaxTransitions: 1}); err != nil {
			b.Fatal(err)
		}
		if enc, err = c.Encode(got); err != nil {
			b.Fatal(err)
		}
		s.put(enc)
		b.ReportMetric(float64(len(enc.Root)), "root-bytes")
	}
}
