package jsonata

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

func TestFunctionsSet(t *testing.T) {
	fs, err := NewFunctions(
		FunctionDef{Name: "twice", Fn: func(a ...any) (any, error) { return a[0].(float64) * 2, nil }, Signature: "<n-:n>"},
		FunctionDef{Name: "greet", Fn: func(a ...any) (any, error) { return "hi " + a[0].(string), nil }, Signature: "<s:s>"},
		FunctionDef{Name: "any", Fn: func(a ...any) (any, error) { return float64(len(a)), nil }},
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(fs.Names(), ","); got != "any,greet,twice" || !fs.Has("twice") || fs.Has("sum") {
		t.Fatalf("Names() = %s", got)
	}
	cases := []struct{ expr, want, code string }{
		{`$twice(21)`, "42", ""},
		{`n.$twice()`, "42", ""}, // the context value as the implicit first argument
		{`$greet('bob')`, `"hi bob"`, ""},
		{`$greet(1)`, "", "T0410"},
		{`$any(1, 2, 3)`, "3", ""},
		{`$sum([1, 2])`, "3", ""}, // the built-ins stay visible
		{`$map([1, 2], $twice)`, "[2,4]", ""},
	}
	for _, c := range cases {
		e := MustCompile(c.expr)
		got, err := e.Evaluate(map[string]any{"n": 21}, nil, WithFunctions(fs))
		if c.code != "" {
			if je, ok := err.(*Error); !ok || je.Code != c.code {
				t.Errorf("%s: got %v, want %s", c.expr, err, c.code)
			}
			continue
		}
		if err != nil || jsonString(t, got) != c.want {
			t.Errorf("%s = %s (%v), want %s", c.expr, jsonString(t, got), err, c.want)
		}
	}
	// WithFunction options layer over the set.
	e := MustCompile(`$twice(1)`)
	got, err := e.Evaluate(nil, nil, WithFunctions(fs), WithFunction("twice", func(...any) (any, error) { return "over", nil }))
	if err != nil || got != "over" {
		t.Fatalf("override: %v %v", got, err)
	}
	// Without the set the functions are unknown.
	if _, err := e.Evaluate(nil, nil); err == nil {
		t.Fatal("$twice without the set succeeded")
	}
}

func TestFunctionsInvalidSignature(t *testing.T) {
	_, err := NewFunctions(FunctionDef{Name: "f", Fn: func(...any) (any, error) { return nil, nil }, Signature: "<x<s>:s>"})
	je, ok := err.(*Error)
	if !ok || je.Code != "S0401" || !strings.Contains(je.Message, "$f") {
		t.Fatalf("got %v", err)
	}
}

func TestFunctionsConcurrent(t *testing.T) {
	fs := MustNewFunctions(FunctionDef{Name: "inc", Fn: func(a ...any) (any, error) { return a[0].(float64) + 1, nil }, Signature: "<n:n>"})
	vars := NewBindings(map[string]any{"k": 1, "o": map[string]any{"a": 2}})
	e := MustCompile(`$sum([1..100].$inc($)) + ($k := $k + $o.a; $x := $k; $x - 3) + $k - 1`)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				r, err := e.Evaluate(nil, nil, WithFunctions(fs), WithBindings(vars))
				if err != nil || r != 5150.0 {
					t.Errorf("got %v %v", r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// a top-level binding goes into the evaluation's own frame, never into the shared set
	if r, err := MustCompile(`$k := 5`).Evaluate(nil, nil, WithBindings(vars)); err != nil || r != 5.0 {
		t.Fatalf("$k := 5 gives %v %v", r, err)
	}
	if r, err := MustCompile(`$k`).Evaluate(nil, nil, WithBindings(vars)); err != nil || r != 1.0 {
		t.Fatalf("$k after a rebinding elsewhere is %v %v, want 1", r, err)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	if IsUndefined(v) {
		return "undefined"
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func BenchmarkWithFunctions(b *testing.B) {
	fs := MustNewFunctions(FunctionDef{Name: "f", Fn: func(a ...any) (any, error) { return a[0], nil }, Signature: "<x:x>"})
	e := MustCompile(`$f(1)`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.Evaluate(nil, nil, WithFunctions(fs)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWithFunction(b *testing.B) {
	o := WithFunction("f", func(a ...any) (any, error) { return a[0], nil }, "<x:x>")
	e := MustCompile(`$f(1)`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := e.Evaluate(nil, nil, o); err != nil {
			b.Fatal(err)
		}
	}
}
