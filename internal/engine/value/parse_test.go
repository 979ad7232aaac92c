package value

import "testing"

func TestParseRecoversFromParserPanic(t *testing.T) {
	// ojg v1.28.5 panics on this document (found by the CLI's FuzzParseContext).
	for i := 0; i < 3; i++ { // the pool must not hand out a broken parser afterwards
		if _, err := Parse([]byte(`{"000000000": {"00":}, "": "0"`)); err == nil {
			t.Fatal("malformed document parsed without error")
		}
		v, err := Parse([]byte(`{"a": [1, 2.5]}`))
		if err != nil || !Equal(v, map[string]any{"a": []any{int64(1), 2.5}}) {
			t.Fatalf("valid document after a failure: %v, %v", v, err)
		}
	}
}
