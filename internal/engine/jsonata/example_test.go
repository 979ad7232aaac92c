package jsonata_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine/jsonata"
)

func Example() {
	e, err := jsonata.Compile(`{"total": $sum(items.(price * qty)), "names": items[price > 5]^(>price).name}`)
	if err != nil {
		panic(err)
	}
	input := map[string]any{"items": []any{
		map[string]any{"name": "pen", "price": 2, "qty": 10},
		map[string]any{"name": "book", "price": 12.5, "qty": 2},
		map[string]any{"name": "lamp", "price": 30, "qty": 1},
	}}
	res, err := e.Evaluate(input, nil, jsonata.WithTimeout(time.Second))
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	// Output: {"total":75,"names":["lamp","book"]}
}

func ExampleWithFunction() {
	upper := func(args ...any) (any, error) {
		s, _ := args[0].(string)
		return strings.ToUpper(s), nil
	}
	e := jsonata.MustCompile(`$shout(name) & "!"`)
	res, _ := e.Evaluate(map[string]any{"name": "hello"}, nil, jsonata.WithFunction("shout", upper, "<s-:s>"))
	fmt.Println(res)
	// Output: HELLO!
}

func ExampleError() {
	_, err := jsonata.MustCompile(`"a" + 1`).Evaluate(nil, nil)
	je := err.(*jsonata.Error)
	fmt.Println(je.Code, je.Position, je.Token)
	// Output: T2001 5 +
}

func ExampleIsUndefined() {
	res, _ := jsonata.MustCompile(`missing`).Evaluate(map[string]any{"present": 1}, nil)
	fmt.Println(jsonata.IsUndefined(res))
	// Output: true
}
