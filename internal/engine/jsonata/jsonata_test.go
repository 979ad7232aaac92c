package jsonata

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func eval(t *testing.T, expr string, input any, opts ...Option) (any, error) {
	t.Helper()
	e, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	return e.Evaluate(input, nil, opts...)
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValueModel(t *testing.T) {
	input := map[string]any{"a": 1, "b": int64(2), "n": nil, "s": []any{"x", "y"}}
	cases := []struct{ expr, want string }{
		{`a + b`, `3`},
		{`n`, `null`},
		{`s[1]`, `"y"`},
		{`{"z": 1, "a": 2, "m": 3}`, `{"z":1,"a":2,"m":3}`},
		{`$keys({"z": 1, "a": 2})`, `["z","a"]`},
		{`$string({"b": [1, 2.5, null], "a": true})`, `"{\"b\":[1,2.5,null],\"a\":true}"`},
		{`[1..3].($ * 2)`, `[2,4,6]`},
		{`$sum(s.$length($))`, `2`},
	}
	for _, c := range cases {
		got, err := eval(t, c.expr, input)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if s := jsonOf(t, got); s != c.want {
			t.Errorf("%s = %s, want %s", c.expr, s, c.want)
		}
	}
	got, err := eval(t, `missing`, input)
	if err != nil || !IsUndefined(got) {
		t.Errorf("missing = %v, %v; want Undefined", got, err)
	}
	got, _ = eval(t, `{"k": [1, {"x": null}]}`, nil)
	if m, ok := Plain(got).(map[string]any); !ok || m["k"].([]any)[1].(map[string]any)["x"] != nil {
		t.Errorf("Plain conversion failed: %#v", Plain(got))
	}
}

func TestCompileErrorsAreLocated(t *testing.T) {
	cases := []struct {
		expr, code string
		pos        int
	}{
		{`1 +`, "S0207", 3},
		{`"abc`, "S0101", 4},
		{`foo(`, "S0203", 4},
		{`$x := `, "S0207", 6},
		{`[1,2`, "S0203", 4},
		{`1 ! 2`, "S0204", 3},
		{`/* x`, "S0106", 0},
	}
	for _, c := range cases {
		_, err := Compile(c.expr)
		var je *Error
		if !errors.As(err, &je) {
			t.Errorf("%q: expected *Error, got %v", c.expr, err)
			continue
		}
		if je.Code != c.code || je.Position != c.pos {
			t.Errorf("%q: got %s at %d, want %s at %d", c.expr, je.Code, je.Position, c.code, c.pos)
		}
		if !strings.Contains(je.Error(), c.code) {
			t.Errorf("%q: message %q lacks the code", c.expr, je.Error())
		}
	}
}

func TestEvaluationErrors(t *testing.T) {
	cases := []struct{ expr, code string }{
		{`"a" + 1`, "T2001"},
		{`$sum("x")`, "T0412"},
		{`$substring("a", "b")`, "T0410"},
		{`$substring(1)`, "T0411"},
		{`$number("abc")`, "D3030"},
		{`$foo()`, "T1006"},
		{`$error("boom")`, "D3137"},
		{`$assert(false, "no")`, "D3141"},
	}
	for _, c := range cases {
		_, err := eval(t, c.expr, nil)
		var je *Error
		if !errors.As(err, &je) || je.Code != c.code {
			t.Errorf("%s: got %v, want %s", c.expr, err, c.code)
		}
	}
}

func TestRunawayExpressionsEnd(t *testing.T) {
	start := time.Now()
	_, err := eval(t, `($f := function($n){ $f($n + 1) + 1 }; $f(0))`, nil, WithMaxDepth(500))
	var je *Error
	if !errors.As(err, &je) || je.Code != "U1001" {
		t.Fatalf("deep recursion: got %v, want U1001", err)
	}
	_, err = eval(t, `($f := function($n){ $f($n + 1) }; $f(0))`, nil, WithTimeout(200*time.Millisecond))
	if !errors.As(err, &je) || je.Code != "U1001" {
		t.Fatalf("infinite tail recursion: got %v, want U1001", err)
	}
	// default depth limit applies without options
	_, err = eval(t, `($f := function($n){ 1 + $f($n + 1) }; $f(0))`, nil)
	if !errors.As(err, &je) || je.Code != "U1001" {
		t.Fatalf("default depth limit: got %v, want U1001", err)
	}
	if time.Since(start) > 20*time.Second {
		t.Fatalf("runaway expressions took too long: %v", time.Since(start))
	}
}

func TestTailCallsDoNotGrowDepth(t *testing.T) {
	got, err := eval(t, `($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, $acc + 1) }; $f(100000, 0))`, nil, WithMaxDepth(100))
	if err != nil || got != 100000.0 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestWithFunctionAndBindings(t *testing.T) {
	double := func(args ...any) (any, error) {
		f, ok := args[0].(float64)
		if !ok {
			return nil, fmt.Errorf("not a number")
		}
		return f * 2, nil
	}
	e := MustCompile(`$double($x) + $count($nothing)`)
	got, err := e.Evaluate(nil, map[string]any{"x": 21}, WithFunction("double", double, "<n:n>"))
	if err != nil || got != 42.0 {
		t.Fatalf("got %v, %v", got, err)
	}
	_, err = e.Evaluate(nil, map[string]any{"x": "a"}, WithFunction("double", double, "<n:n>"))
	var je *Error
	if !errors.As(err, &je) || je.Code != "T0410" {
		t.Fatalf("signature not enforced: %v", err)
	}
	got, err = MustCompile(`$now()`).Evaluate(nil, nil, WithNow(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)))
	if err != nil || got != "2024-01-02T03:04:05.000Z" {
		t.Fatalf("$now() = %v, %v", got, err)
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	e := MustCompile(`($total := $sum(items.(price * qty)); {"total": $total, "big": items[price > 5]^(>price).name, "n": $count(items)})`)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			items := []any{}
			for i := 0; i < 20; i++ {
				items = append(items, map[string]any{"name": fmt.Sprint("i", i), "price": float64(i), "qty": g})
			}
			for k := 0; k < 50; k++ {
				got, err := e.Evaluate(map[string]any{"items": items}, nil)
				if err != nil {
					errs <- err
					return
				}
				o := got.(*Object)
				total, _ := o.Get("total")
				if total != float64(190*g) {
					errs <- fmt.Errorf("goroutine %d: total %v", g, total)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRegexDialect(t *testing.T) {
	cases := []struct{ expr, want string }{
		{`$replace("caf\u00e9", /\u00e9/, "e")`, `"cafe"`},
		{`$match("a1b22", /[0-9]+/).match`, `["1","22"]`},
		{`$split("a, b,c", /,\s*/)`, `["a","b","c"]`},
		{`$contains("Hello", /hello/i)`, `true`},
		{`$contains("hello world", /^hello\ /)`, `true`},
		{`$contains("hello$world", /^hello\$/)`, `true`},
		{`$contains("hello world", /^hello\$/)`, `false`},
		{`$contains("hello$", /^hello\$/)`, `true`},
	}
	for _, c := range cases {
		got, err := eval(t, c.expr, nil)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if s := jsonOf(t, got); s != c.want {
			t.Errorf("%s = %s, want %s", c.expr, s, c.want)
		}
	}
}

func TestConcurrentPreparedInput(t *testing.T) {
	shared := Prepare(map[string]any{"a": []any{map[string]any{"b": []any{1}}, map[string]any{"b": 2}}, "o": map[string]any{"x": 1}})
	exprs := []*Expr{
		MustCompile(`a.b[]`),
		MustCompile(`a[0].b[]`),
		MustCompile(`$ ~> |o|{"x": 2, "y": 3}|`),
		MustCompile(`$sort(a.b, function($l, $r){ $l < $r })`),
		MustCompile(`a#$i.{"i": $i, "b": b}`),
	}
	want := make([]string, len(exprs))
	for i, e := range exprs {
		r, err := e.Evaluate(shared, nil)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = jsonOf(t, r)
	}
	var wg sync.WaitGroup
	for g := 0; g < 6; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 100; k++ {
				for i, e := range exprs {
					r, err := e.Evaluate(shared, nil)
					if err != nil {
						t.Error(err)
						return
					}
					if got := jsonOf(t, r); got != want[i] {
						t.Errorf("%s: got %s, want %s", e, got, want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestNonFiniteNumbersDoNotHang(t *testing.T) {
	for _, expr := range []string{
		`$formatInteger(1e308 * 10, "a")`,
		`$formatInteger(1e308 * 10, "w")`,
		`$formatInteger(1e308 * 10, "I")`,
		`$round(1e308 * 10, 2)`,
		`$formatNumber(1e308 * 10, "#,##0.00e0")`,
		`$formatBase(1e308 * 10, 16)`,
		`$fromMillis(1e308 * 10)`,
		`[1..(1e308 * 10)]`,
	} {
		done := make(chan error, 1)
		go func() {
			_, err := eval(t, expr, nil, WithTimeout(time.Second))
			done <- err
		}()
		select {
		case err := <-done:
			var je *Error
			if errors.As(err, &je) && je.Code == internalErrorCode {
				t.Errorf("%s: internal error %v", expr, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not end", expr)
		}
	}
}
