package jsonpath

import (
	"errors"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine/value"
)

type vars map[string]any

func (v vars) Lookup(name string) (any, bool) { x, ok := v[name]; return x, ok }

func mustParse(t *testing.T, s string) any {
	t.Helper()
	v, err := value.ParseString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGet(t *testing.T) {
	input := `{"a":{"b":"x","n":null,"list":[1,2,3]},"items":[{"x":1,"n":"p"},{"x":2,"n":"q"},{"x":3,"n":"r"}],"a b":true,"it's":1}`
	ctx := `{"Execution":{"Id":"arn:exec","Input":{"k":1}},"Map":{"Item":{"Index":0,"Value":{"v":9}}}}`
	scope := &Scope{
		Input:   mustParse(t, input),
		Context: mustParse(t, ctx),
		Vars:    vars{"total": int64(7), "order": mustParse(t, `{"lines":[{"sku":"s1"},{"sku":"s2"}]}`)},
	}
	cases := []struct {
		reason  string
		path    string
		want    string // JSON
		noMatch bool
	}{
		{reason: "$ is the whole input", path: "$", want: input},
		{reason: "a dotted path walks objects", path: "$.a.b", want: `"x"`},
		{reason: "a bracketed name may hold spaces", path: "$['a b']", want: `true`},
		{reason: "a double-quoted bracketed name works too", path: `$["a b"]`, want: `true`},
		{reason: "an escaped quote in a bracketed name is part of the name", path: `$['it\'s']`, want: `1`},
		{reason: "spaces inside brackets are allowed, as in Jayway", path: "$[ 'a' ][ \"b\" ]", want: `"x"`},
		{reason: "spaces around an index are allowed", path: "$.a.list[ 1 ]", want: `2`},
		{reason: "an explicit null is a match", path: "$.a.n", want: `null`},
		{reason: "an index selects an element", path: "$.a.list[0]", want: `1`},
		{reason: "a negative index counts from the end", path: "$.a.list[-1]", want: `3`},
		{reason: "a wildcard over an array selects every element's field", path: "$.items[*].x", want: `[1,2,3]`},
		{reason: "deep scan collects a field at any depth", path: "$..sku", want: `[]`},
		{reason: "a filter selects matching elements", path: "$.items[?(@.x > 1)].n", want: `["q","r"]`},
		{reason: "a filter with string equality works", path: "$.items[?(@.n == 'p')].x", want: `[1]`},
		{reason: "a filter that selects nothing gives an empty array, as in Jayway", path: "$.items[?(@.x > 10)]", want: `[]`},
		{reason: "a slice selects a range", path: "$.a.list[0:2]", want: `[1,2]`},
		{reason: "an index union selects several elements", path: "$.a.list[0,2]", want: `[1,3]`},
		{reason: "a single-element wildcard still gives an array", path: "$.a.list[1:2]", want: `[2]`},
		{reason: "$$ reads the context object", path: "$$.Execution.Id", want: `"arn:exec"`},
		{reason: "$$ reaches the current Map item", path: "$$.Map.Item.Value.v", want: `9`},
		{reason: "$$ alone is the whole context", path: "$$.Execution.Input", want: `{"k":1}`},
		{reason: "a variable path reads a variable", path: "$total", want: `7`},
		{reason: "a variable path walks into the variable", path: "$order.lines[1].sku", want: `"s2"`},
		{reason: "an indefinite variable path works", path: "$order.lines[*].sku", want: `["s1","s2"]`},
		{reason: "a missing leaf is no match", path: "$.a.zz", noMatch: true},
		{reason: "a missing intermediate is no match", path: "$.zz.b", noMatch: true},
		{reason: "an index beyond the end is no match", path: "$.a.list[3]", noMatch: true},
		{reason: "a name on an array is no match", path: "$.a.list.x", noMatch: true},
		{reason: "an index on an object is no match", path: "$.a[0]", noMatch: true},
		{reason: "a name through null is no match", path: "$.a.n.x", noMatch: true},
		{reason: "an undefined variable is no match", path: "$nope", noMatch: true},
	}
	for _, c := range cases {
		p, err := Compile(c.path)
		if err != nil {
			t.Errorf("%s: Compile(%q): %v", c.reason, c.path, err)
			continue
		}
		got, err := p.Get(scope)
		if c.noMatch {
			if !errors.Is(err, ErrNoMatch) {
				t.Errorf("%s: Get(%q) = %v, %v; want ErrNoMatch", c.reason, c.path, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Get(%q): %v", c.reason, c.path, err)
			continue
		}
		if !value.Equal(got, mustParse(t, c.want)) {
			t.Errorf("%s: Get(%q) = %s, want %s", c.reason, c.path, value.Marshal(got), c.want)
		}
	}
}

func TestNoMatchMessagesFollowJayway(t *testing.T) {
	scope := &Scope{Input: mustParse(t, `{"a":{"b":1}}`)}
	cases := []struct {
		reason, path, want string
	}{
		{reason: "a missing leaf reads as AWS's InputPath failure", path: "$.NoSuchInputPath", want: "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"},
		{reason: "a missing intermediate names the prefix", path: "$.x.y", want: "Invalid path '$.x.y' : Missing property in path $['x']"},
		{reason: "an undefined variable names the variable", path: "$myVar.a", want: "the variable 'myVar' is not defined"},
	}
	for _, c := range cases {
		_, err := MustCompile(c.path).Get(scope)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Get(%q) error = %v, want %q", c.reason, c.path, err, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	cases := []struct {
		reason, path, want string
	}{
		{reason: "an empty path is rejected", path: "", want: "empty path"},
		{reason: "a path must start with $", path: "a.b", want: "must start with '$'"},
		{reason: "a trailing dot is rejected", path: "$.a.", want: "path ends with '.' at offset 4"},
		{reason: "an unclosed bracket is rejected", path: "$.a[", want: "unclosed '['"},
		{reason: "an unterminated quoted name is rejected", path: "$['a", want: "unterminated quoted name at offset 2"},
		{reason: "garbage after $ is rejected", path: "$%", want: "unexpected '%' after '$'"},
		{reason: "a space in a dotted name is rejected", path: "$.a b", want: "unexpected ' '"},
		{reason: "a malformed filter is rejected", path: "$.a[?(@.x >", want: "invalid JSONPath"},
		{reason: "garbage after a segment is rejected", path: "$.a]", want: "unexpected ']'"},
	}
	for _, c := range cases {
		_, err := Compile(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Compile(%q) error = %v, want one containing %q", c.reason, c.path, err, c.want)
		}
		var se *SyntaxError
		if err != nil && !errors.As(err, &se) {
			t.Errorf("%s: Compile(%q) error is %T, want *SyntaxError", c.reason, c.path, err)
		}
	}
}

func TestPathProperties(t *testing.T) {
	p := MustCompile("$order['x y'][2]")
	if !p.IsDefinite() || p.IsContext() || p.Variable() != "order" {
		t.Errorf("a variable path: definite=%v context=%v var=%q", p.IsDefinite(), p.IsContext(), p.Variable())
	}
	if got := p.Normalized(); got != "$order['x y'][2]" {
		t.Errorf("Normalized = %s", got)
	}
	if q := MustCompile("$$.a[*]"); q.IsDefinite() || !q.IsContext() {
		t.Errorf("a context wildcard path: definite=%v context=%v", q.IsDefinite(), q.IsContext())
	}
}

func BenchmarkGetDefinite(b *testing.B) {
	v, _ := value.ParseString(`{"a":{"b":{"c":[1,2,{"d":"x"}]}}}`)
	s := &Scope{Input: v}
	p := MustCompile("$.a.b.c[2].d")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(s); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIndefiniteResultsAreOrdered(t *testing.T) {
	doc := mustParse(t, `{"z":{"x":1,"k":{"x":2}},"a":{"x":3},"m":[{"x":4},{"x":5}],"x":0}`)
	s := &Scope{Input: doc}
	cases := []struct{ reason, path, want string }{
		{reason: "a wildcard over an object lists members by key", path: "$.*.x", want: `[3,1]`},
		{reason: "deep scan lists a parent before its descendants, members by key", path: "$..x", want: `[0,3,4,5,1,2]`},
		{reason: "a wildcard over an array keeps index order", path: "$.m[*].x", want: `[4,5]`},
	}
	for _, c := range cases {
		for i := 0; i < 20; i++ { // map order changes between runs; the result must not
			got, err := MustCompile(c.path).Get(s)
			if err != nil {
				t.Fatalf("%s: %v", c.reason, err)
			}
			if !value.Equal(got, mustParse(t, c.want)) {
				t.Fatalf("%s: Get(%q) = %s, want %s", c.reason, c.path, value.Marshal(got), c.want)
			}
		}
	}
}
