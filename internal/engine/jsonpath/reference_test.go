package jsonpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine/value"
)

func TestReferenceSet(t *testing.T) {
	cases := []struct {
		reason, ref, doc, val, want, errHas string
	}{
		{reason: "$ replaces the whole document", ref: "$", doc: `{"a":1}`, val: `"r"`, want: `"r"`},
		{reason: "a new key is added beside the others", ref: "$.r", doc: `{"a":1}`, val: `2`, want: `{"a":1,"r":2}`},
		{reason: "an existing key is replaced", ref: "$.a", doc: `{"a":1}`, val: `2`, want: `{"a":2}`},
		{reason: "missing intermediate objects are created", ref: "$.x.y.z", doc: `{"a":1}`, val: `true`, want: `{"a":1,"x":{"y":{"z":true}}}`},
		{reason: "a bracketed name works", ref: "$['a b']", doc: `{}`, val: `1`, want: `{"a b":1}`},
		{reason: "an array element is replaced", ref: "$.l[1]", doc: `{"l":[1,2,3]}`, val: `9`, want: `{"l":[1,9,3]}`},
		{reason: "a field inside an array element is set", ref: "$.l[0].k", doc: `{"l":[{}]}`, val: `9`, want: `{"l":[{"k":9}]}`},
		{reason: "going through a string is an error", ref: "$.a.b", doc: `{"a":"s"}`, val: `1`, errHas: "$['a'] is string, not an object"},
		{reason: "a non-object input cannot take a field", ref: "$.a", doc: `[1]`, val: `1`, errHas: "$ is array, not an object"},
		{reason: "an index beyond the end is an error", ref: "$.l[3]", doc: `{"l":[1]}`, val: `1`, errHas: "index 3 is out of range"},
		{reason: "an index into a missing array is an error", ref: "$.l[0]", doc: `{}`, val: `1`, errHas: "$['l'] does not exist"},
	}
	for _, c := range cases {
		r, err := CompileReference(c.ref)
		if err != nil {
			t.Errorf("%s: CompileReference(%q): %v", c.reason, c.ref, err)
			continue
		}
		doc := mustParse(t, c.doc)
		before := string(value.Marshal(doc))
		got, err := r.Set(doc, mustParse(t, c.val))
		if after := string(value.Marshal(doc)); after != before {
			t.Errorf("%s: Set modified its input: %s became %s", c.reason, before, after)
		}
		if c.errHas != "" {
			var se *SetError
			if err == nil || !strings.Contains(err.Error(), c.errHas) || !errors.As(err, &se) {
				t.Errorf("%s: Set(%q) error = %v, want a *SetError containing %q", c.reason, c.ref, err, c.errHas)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Set(%q): %v", c.reason, c.ref, err)
			continue
		}
		if !value.Equal(got, mustParse(t, c.want)) {
			t.Errorf("%s: Set(%q) = %s, want %s", c.reason, c.ref, value.Marshal(got), c.want)
		}
	}
}

func TestCompileReferenceRejectsNonReferences(t *testing.T) {
	for _, c := range []struct{ reason, ref, want string }{
		{reason: "a context path is not a reference path", ref: "$$.Execution", want: "must start with"},
		{reason: "a variable path is not a reference path", ref: "$v.a", want: "must start with"},
		{reason: "a wildcard is not allowed", ref: "$.a[*]", want: "allows only"},
		{reason: "deep scan is not allowed", ref: "$..a", want: "allows only"},
		{reason: "a filter is not allowed", ref: "$.a[?(@.x)]", want: "allows only"},
		{reason: "a negative index is not allowed", ref: "$.a[-1]", want: "negative index"},
		{reason: "malformed text is rejected", ref: "$.a.", want: "ends with '.'"},
	} {
		_, err := CompileReference(c.ref)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: CompileReference(%q) error = %v, want one containing %q", c.reason, c.ref, err, c.want)
		}
	}
}
