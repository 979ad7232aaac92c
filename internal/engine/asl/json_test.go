package asl

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestJSONReaderAgreesWithEncodingJSON decodes valid documents with both
// decoders and compares the values.
func TestJSONReaderAgreesWithEncodingJSON(t *testing.T) {
	docs := []string{
		`{"a":"plain","b":"esc \" \\ \/ \b \f \n \r \t","c":"\u00e9\u4e2d\ud83d\ude00","d":"é中😀"}`,
		`[0, -0, 1, -12, 3.25, -1e3, 2E-2, 1.5e+2, 9223372036854775807, 9223372036854775808, 1e308]`,
		`{"nested":[{"x":[[],{}]},null,true,false]}`,
		` { "spaced" : [ 1 , 2 ] } `,
		`{"a":[{"b":1,"c":[{"d":[1,{"e":2,"f":[]}],"g":{}}]},[[{"h":[{"i":0}]}]]],"j":{"k":[3,{"l":4}]}}`,
		`"just a string"`,
	}
	for _, doc := range docs {
		n, err := decodeJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var want any
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		if got := normalise(n.toAny()); !reflect.DeepEqual(got, normalise(want)) {
			t.Errorf("%s:\n got %#v\nwant %#v", doc, got, want)
		}
	}
}

// normalise turns every number into float64 so both decoders compare.
func normalise(v any) any {
	switch t := v.(type) {
	case int64:
		return float64(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = normalise(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = normalise(e)
		}
		return out
	}
	return v
}

func TestJSONReaderErrors(t *testing.T) {
	cases := []struct{ doc, msg string }{
		{`{"a":01}`, "unexpected '1' after object value, expected ',' or '}' (line 1, column 7)"},
		{`{"a":1.}`, "expected a digit after the decimal point"},
		{`{"a":1e}`, "expected a digit in the exponent"},
		{`{"a":-}`, "invalid number: expected a digit"},
		{`{"a":1e999}`, "number 1e999 is out of range"},
		{`{"a":"\x"}`, `invalid escape character 'x' in string`},
		{`{"a":"\u12"}`, `invalid \u escape`},
		{"{\"a\":\"tab\there\"}", "invalid control character"},
		{"{\"a\":\"\xff\"}", "invalid UTF-8"},
		{`{"a":"open`, "unexpected end of input in string"},
		{`{"a" 1}`, "expected ':'"},
		{`{"a":1 "b":2}`, "expected ',' or '}'"},
		{`[1 2]`, "expected ',' or ']'"},
		{`{1:2}`, "looking for an object key"},
		{`{"a":tru}`, "invalid literal, expected true"},
		{`{"a":1}}`, "unexpected data after the top-level value (line 1, column 8)"},
		{"{\n\"a\":\n@}", "unexpected character '@' looking for the beginning of a value (line 3, column 1)"},
	}
	for _, tc := range cases {
		_, err := decodeJSON([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: error %v, want it to contain %q", tc.doc, err, tc.msg)
		}
	}
}

func TestLoneSurrogatesBecomeReplacementCharacters(t *testing.T) {
	n, err := decodeJSON([]byte(`"\ud83d x \ude00"`))
	if err != nil {
		t.Fatal(err)
	}
	if n.str != "\uFFFD x \uFFFD" {
		t.Errorf("got %q", n.str)
	}
}

// FuzzJSONReader checks the reader against encoding/json: both accept the
// same documents (bar the reader's depth limit and its refusal of invalid
// UTF-8, which encoding/json replaces) and decode them to the same values.
func FuzzJSONReader(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\u00e9"}],"d":-1.5e3}`, `[]`, `"x"`, `{"a":01}`, `[1,]`, `{"\ud83d":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := decodeJSON(data)
		valid := json.Valid(data)
		if err == nil {
			if !valid {
				t.Fatalf("reader accepts what encoding/json rejects: %q", data)
			}
			var want any
			if json.Unmarshal(data, &want) == nil && !reflect.DeepEqual(normalise(n.toAny()), normalise(want)) {
				t.Fatalf("%q: got %#v, want %#v", data, n.toAny(), want)
			}
			return
		}
		if valid && !strings.Contains(err.Error(), "deep") && !strings.Contains(err.Error(), "UTF-8") && !strings.Contains(err.Error(), "out of range") {
			t.Fatalf("reader rejects valid JSON %q: %v", data, err)
		}
	})
}
