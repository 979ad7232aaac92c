package jsonata

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// suiteFloor is the minimum number of passing cases of the JSONata test suite.
const suiteFloor = 1625

// knownFailures lists suite cases that are expected to fail, each with a reason
// (see docs/jsonata.md). A listed case that passes is reported but not an error.
var knownFailures = map[string]string{}

type suiteCase struct {
	Expr            *string         `json:"expr"`
	ExprFile        string          `json:"expr-file"`
	Data            json.RawMessage `json:"data"`
	Dataset         *string         `json:"dataset"`
	Bindings        json.RawMessage `json:"bindings"`
	Result          json.RawMessage `json:"result"`
	UndefinedResult bool            `json:"undefinedResult"`
	Code            string          `json:"code"`
	Err             *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Depth     int `json:"depth"`
	TimeLimit int `json:"timelimit"`
}

func loadCases(t *testing.T, file string) []suiteCase {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b = loneSurrogateEscapes(b)
	var cs []suiteCase
	if strings.HasPrefix(strings.TrimSpace(string(b)), "[") {
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	} else {
		var c suiteCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		cs = []suiteCase{c}
	}
	return cs
}

func TestJSONataSuite(t *testing.T) {
	dir := os.Getenv("KSTATES_JSONATA_SUITE_DIR")
	if dir == "" {
		t.Skip("KSTATES_JSONATA_SUITE_DIR is not set; skipping the JSONata test suite")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "groups", "*", "*.json"))
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no test cases under %s", dir)
	}
	datasets := map[string]any{}
	type count struct{ pass, fail int }
	groups := map[string]*count{}
	var names []string
	passed, failed := 0, 0
	verbose := os.Getenv("KSTATES_JSONATA_SUITE_VERBOSE") != ""
	for _, f := range files {
		group := filepath.Base(filepath.Dir(f))
		if groups[group] == nil {
			groups[group] = &count{}
			names = append(names, group)
		}
		for i, c := range loadCases(t, f) {
			id := fmt.Sprintf("%s/%s", group, strings.TrimSuffix(filepath.Base(f), ".json"))
			if i > 0 || strings.Contains(filepath.Base(f), "[") {
				id = fmt.Sprintf("%s#%d", id, i)
			}
			ok, msg := runCase(dir, filepath.Dir(f), c, datasets)
			if ok {
				passed++
				groups[group].pass++
			} else {
				failed++
				groups[group].fail++
				if _, known := knownFailures[id]; !known || verbose {
					expr := ""
					if c.Expr != nil {
						expr = *c.Expr
					}
					t.Logf("FAIL %s: %s\n    expr: %s", id, msg, truncate(expr, 300))
				}
			}
		}
	}
	for _, g := range names {
		c := groups[g]
		t.Logf("group %-32s %4d passed %3d failed", g, c.pass, c.fail)
	}
	t.Logf("jsonata-suite: %d passed, %d failed", passed, failed)
	fmt.Printf("jsonata-suite: %d passed, %d failed\n", passed, failed)
	if passed < suiteFloor {
		t.Errorf("passes dropped below the floor: %d < %d", passed, suiteFloor)
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func runCase(root, dir string, c suiteCase, datasets map[string]any) (ok bool, msg string) {
	var expr string
	if c.Expr != nil {
		expr = *c.Expr
	} else if c.ExprFile != "" {
		b, err := os.ReadFile(filepath.Join(dir, c.ExprFile))
		if err != nil {
			return false, err.Error()
		}
		expr = string(b)
	}
	var input any = Undefined
	if len(c.Data) > 0 {
		v, err := DecodeJSON(c.Data)
		if err != nil {
			return false, "bad data: " + err.Error()
		}
		input = v
	} else if c.Dataset != nil {
		if v, ok := datasets[*c.Dataset]; ok {
			input = v
		} else {
			b, err := os.ReadFile(filepath.Join(root, "datasets", *c.Dataset+".json"))
			if err != nil {
				return false, err.Error()
			}
			v, err := DecodeJSON(b)
			if err != nil {
				return false, err.Error()
			}
			datasets[*c.Dataset] = v
			input = v
		}
	}
	var bindings map[string]any
	if len(c.Bindings) > 0 {
		v, err := DecodeJSON(c.Bindings)
		if err == nil {
			if o, ok := v.(*Object); ok {
				bindings = map[string]any{}
				for _, k := range o.Keys() {
					bindings[k], _ = o.Get(k)
				}
			}
		}
	}
	var opts []Option
	if c.Depth > 0 {
		opts = append(opts, WithMaxDepth(c.Depth))
	}
	if c.TimeLimit > 0 {
		opts = append(opts, WithTimeout(time.Duration(c.TimeLimit)*time.Millisecond))
	} else {
		opts = append(opts, WithTimeout(10*time.Second))
	}
	wantMsg := ""
	if c.Err != nil {
		c.Code = c.Err.Code
		wantMsg = c.Err.Message
	}
	e, err := Compile(expr)
	var res any
	if err == nil {
		res, err = e.Evaluate(input, bindings, opts...)
	}
	if c.Code != "" {
		if err == nil {
			return false, fmt.Sprintf("expected error %s, got result %s", c.Code, show(res))
		}
		je, ok := err.(*Error)
		if !ok || je.Code != c.Code {
			return false, fmt.Sprintf("expected error %s, got %v", c.Code, err)
		}
		if wantMsg != "" && je.Message != wantMsg {
			return false, fmt.Sprintf("expected error message %q, got %q", wantMsg, je.Message)
		}
		return true, ""
	}
	if err != nil {
		return false, "unexpected error: " + err.Error()
	}
	if c.UndefinedResult || len(c.Result) == 0 {
		if !IsUndefined(res) {
			return false, "expected undefined, got " + show(res)
		}
		return true, ""
	}
	want, err := DecodeJSON(c.Result)
	if err != nil {
		return false, "bad result: " + err.Error()
	}
	if !sameValue(want, res) {
		return false, fmt.Sprintf("expected %s, got %s", show(want), show(res))
	}
	return true, ""
}

func show(v any) string {
	if IsUndefined(v) {
		return "undefined"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return truncate(string(b), 400)
}

// sameValue compares structurally; object key order is ignored (as chai's
// deep.equal does in the jsonata-js test runner) and numbers compare by value
// with a relative tolerance of 1e-13 for floating-point noise.
func sameValue(want, got any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case float64:
		g, ok := got.(float64)
		if !ok {
			return false
		}
		if w == g {
			return true
		}
		return math.Abs(w-g) <= 1e-13*math.Max(math.Abs(w), math.Abs(g))
	case string, bool:
		return want == got
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameValue(w[i], g[i]) {
				return false
			}
		}
		return true
	case *Object:
		g, ok := got.(*Object)
		if !ok || g.Len() != w.Len() {
			return false
		}
		for _, k := range w.Keys() {
			wv, _ := w.Get(k)
			gv, ok := g.Get(k)
			if !ok || !sameValue(wv, gv) {
				return false
			}
		}
		return true
	}
	return false
}

// loneSurrogateEscapes rewrites JSON escapes of unpaired UTF-16 surrogates
// (\uD800) into escaped backslashes (\\uD800). Go strings cannot hold an
// unpaired surrogate (encoding/json would turn it into U+FFFD), so the
// expression text keeps the JSONata escape sequence instead, which the JSONata
// lexer decodes to the unpaired surrogate exactly as jsonata-js sees it.
func loneSurrogateEscapes(b []byte) []byte {
	isHex := func(c byte) bool {
		return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	}
	surrogate := func(i int) (high, low bool) {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
			return false, false
		}
		if b[i+2] != 'd' && b[i+2] != 'D' {
			return false, false
		}
		switch b[i+3] {
		case '8', '9', 'a', 'b', 'A', 'B':
			return true, false
		case 'c', 'd', 'e', 'f', 'C', 'D', 'E', 'F':
			return false, true
		}
		return false, false
	}
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) && b[i+1] == '\\' {
			out = append(out, b[i], b[i+1])
			i++
			continue
		}
		if hi, lo := surrogate(i); hi || lo {
			if hi {
				if _, lo2 := surrogate(i + 6); lo2 {
					out = append(out, b[i:i+12]...)
					i += 11
					continue
				}
			}
			out = append(out, '\\', '\\')
			out = append(out, b[i+1:i+6]...)
			i += 5
			continue
		}
		out = append(out, b[i])
	}
	return out
}
