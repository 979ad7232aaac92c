package jsonata

import (
	"errors"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	`$sum(items.(price * qty))`,
	`items[price > 50]^(>price)`,
	`Account.Order.Product{ ProductName: $sum(Price) }`,
	`$map([1..5], function($v, $i){ $v * $i })`,
	`library.books#$i[$i < 2].title`,
	`library.loans@$l.books@$b[$l.isbn = $b.isbn]`,
	`$.a.b.%.c`,
	`$ ~> |a|{"b": 1}, ["c"]|`,
	`$formatNumber(1234.5, "#,##0.00")`,
	`$fromMillis(0, "[Y0001]-[M01]-[D01] [H#1]:[m01] [P]")`,
	`$replace("abc", /b(c)/, "$1$1")`,
	`(  $f := function($n){ $n < 2 ? $n : $f($n-1) + $f($n-2) }; $f(10) )`,
	`"a" & 1 & true & null & [1] & {"k": 2}`,
	`$substring("hello", -3, 2) in ["ll", "lo"]`,
	`**.x[0]`,
	`$eval("1 + 2")`,
}

// FuzzCompile checks that the parser never panics and reports *Error values.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		var e *Expr
		var err error
		done := make(chan struct{})
		go func() {
			e, err = Compile(expr)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Compile(%q) did not end within 5s", expr)
		}
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("Compile(%q) returned a non-*Error: %v", expr, err)
			}
			return
		}
		if e == nil {
			t.Fatalf("Compile(%q) returned nil without error", expr)
		}
		_ = e.TopLevelReferences() // must not panic on any tree
	})
}

// FuzzEvaluate checks that evaluation never panics or hangs.
func FuzzEvaluate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	input, _ := DecodeJSON([]byte(`{"items":[{"name":"a","price":10,"qty":2},{"name":"b","price":60,"qty":1}],
		"a":{"b":{"c":[1,2,{"x":3}]}},"s":"text","n":null,"t":true,
		"library":{"books":[{"title":"T1","isbn":"1"},{"title":"T2","isbn":"2"}],"loans":[{"isbn":"2"}]}}`))
	f.Fuzz(func(t *testing.T, expr string) {
		e, err := Compile(expr)
		if err != nil {
			return
		}
		done := make(chan error, 1)
		go func() {
			_, err := e.Evaluate(input, map[string]any{"v": 1}, WithTimeout(200*time.Millisecond), WithMaxDepth(200))
			done <- err
		}()
		select {
		case err = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Evaluate(%q) did not end within 5s despite a 200ms time limit", expr)
		}
		var je *Error
		if err != nil && !errors.As(err, &je) {
			t.Fatalf("Evaluate(%q) returned a non-*Error: %v", expr, err)
		}
		if je != nil && je.Code == internalErrorCode {
			t.Fatalf("Evaluate(%q) panicked: %v", expr, err)
		}
	})
}
