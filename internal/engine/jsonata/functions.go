package jsonata

import (
	"encoding/base64"
	"math"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type bfn = func(ev *evaluator, input any, e *env, args []any) (any, error)

var builtins = map[string]*Builtin{}

func def(name, sig string, ar int, fn bfn) {
	var s *signature
	if sig != "" {
		s = mustSig(sig)
	}
	builtins[name] = &Builtin{name: name, sig: s, arity: ar, fn: fn}
}

func str(v any) (string, bool) { s, ok := v.(string); return s, ok }

func num(v any) (float64, bool) { f, ok := v.(float64); return f, ok }

func arr(v any) *Array {
	if a, ok := v.(*Array); ok {
		return a
	}
	if v == nil {
		return nil
	}
	return &Array{items: []any{v}}
}

func toUTF16(s string) []uint16 { return utf16.Encode([]rune(s)) }

func init() {
	def("sum", "<a<n>:n>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return nil, nil
		}
		t := 0.0
		for _, v := range x.items {
			t += v.(float64)
		}
		return t, nil
	})
	def("count", "<a:n>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return 0.0, nil
		}
		return float64(len(x.items)), nil
	})
	minmax := func(isMax bool) bfn {
		return func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
			x := arr(a[0])
			if x == nil || len(x.items) == 0 {
				return nil, nil
			}
			r := x.items[0].(float64)
			for _, v := range x.items[1:] {
				f := v.(float64)
				if (isMax && f > r) || (!isMax && f < r) {
					r = f
				}
			}
			return r, nil
		}
	}
	def("max", "<a<n>:n>", 1, minmax(true))
	def("min", "<a<n>:n>", 1, minmax(false))
	def("average", "<a<n>:n>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil || len(x.items) == 0 {
			return nil, nil
		}
		t := 0.0
		for _, v := range x.items {
			t += v.(float64)
		}
		return t / float64(len(x.items)), nil
	})
	def("string", "<x-b?:s>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		if a[0] == nil {
			return nil, nil
		}
		pretty, _ := at(a, 1).(bool)
		s, err := toJSStringLimited(a[0], pretty, func() error {
			if ev.expired() {
				return ev.timeoutErr()
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return s, nil
	})
	def("substring", "<s-nn?:s>", 3, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		rs := []rune(s)
		n := len(rs)
		start, _ := num(at(a, 1))
		if float64(n)+start < 0 {
			start = 0
		}
		if l, ok := num(at(a, 2)); ok {
			if l <= 0 {
				return "", nil
			}
			end := start + l
			if start < 0 {
				end = float64(n) + start + l
			}
			return jsSlice(rs, start, end, true), nil
		}
		return jsSlice(rs, start, 0, false), nil
	})
	def("substringBefore", "<s-s:s>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		c, _ := str(at(a, 1))
		if i := strings.Index(s, c); i > -1 {
			return s[:i], nil
		}
		return s, nil
	})
	def("substringAfter", "<s-s:s>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		c, _ := str(at(a, 1))
		if i := strings.Index(s, c); i > -1 {
			return s[i+len(c):], nil
		}
		return s, nil
	})
	def("lowercase", "<s-:s>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		return strings.ToLower(s), nil
	})
	def("uppercase", "<s-:s>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		return strings.ToUpper(s), nil
	})
	def("length", "<s-:n>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		return float64(utf8.RuneCountInString(s)), nil
	})
	wsRe := regexp.MustCompile(`[ \t\n\r]+`)
	def("trim", "<s-:s>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		r := wsRe.ReplaceAllString(s, " ")
		r = strings.TrimPrefix(r, " ")
		r = strings.TrimSuffix(r, " ")
		return r, nil
	})
	def("pad", "<s-ns?:s>", 3, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		w, _ := num(at(a, 1))
		c, _ := str(at(a, 2))
		if c == "" {
			c = " "
		}
		padLen := int(math.Abs(w)) - utf8.RuneCountInString(s)
		if padLen <= 0 {
			return s, nil
		}
		if math.Abs(w) > maxStringLen {
			return nil, errTooLarge()
		}
		padding := []rune(strings.Repeat(c, padLen))
		padding = padding[:padLen]
		if w > 0 {
			return s + string(padding), nil
		}
		return string(padding) + s, nil
	})
	def("contains", "<s-(sf):b>", 2, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		if t, ok := str(at(a, 1)); ok {
			return strings.Contains(s, t), nil
		}
		ms, err := ev.matchAll(at(a, 1), s, e, 1)
		if err != nil {
			return nil, err
		}
		return len(ms) > 0, nil
	})
	def("match", "<s-f<s:o>n?:a<o>>", 3, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		limit := -1
		if l, ok := num(at(a, 2)); ok {
			if l < 0 {
				return nil, errV("D3040", l)
			}
			limit = int(l)
		}
		res := newSeq()
		if limit == 0 {
			return res, nil
		}
		ms, err := ev.matchAll(at(a, 1), s, e, limit)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			o := NewObject()
			o.Set("match", m.match)
			o.Set("index", float64(m.startU16))
			g := make([]any, len(m.groups))
			copy(g, m.groups)
			o.Set("groups", &Array{items: g})
			res.items = append(res.items, o)
		}
		return res, nil
	})
	def("replace", "<s-(sf)(sf)n?:s>", 4, fnReplace)
	def("split", "<s-(sf)n?:a<s>>", 3, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		limit := -1
		if l, ok := num(at(a, 2)); ok {
			if l < 0 {
				return nil, errV("D3020", l)
			}
			limit = int(l)
		}
		res := &Array{items: []any{}}
		if limit == 0 {
			return res, nil
		}
		if sep, ok := str(at(a, 1)); ok {
			var parts []string
			if sep == "" {
				for _, u := range toUTF16(s) {
					parts = append(parts, string(utf16.Decode([]uint16{u})))
				}
			} else {
				parts = strings.Split(s, sep)
			}
			for i, p := range parts {
				if limit >= 0 && i >= limit {
					break
				}
				res.items = append(res.items, p)
			}
			return res, nil
		}
		ms, err := ev.matchAll(at(a, 1), s, e, limit)
		if err != nil {
			return nil, err
		}
		start := 0
		count := 0
		for _, m := range ms {
			res.items = append(res.items, s[start:m.start])
			start = m.end
			count++
		}
		if limit < 0 || count < limit {
			res.items = append(res.items, s[start:])
		}
		return res, nil
	})
	def("join", "<a<s>s?:s>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return nil, nil
		}
		sep, _ := str(at(a, 1))
		parts := make([]string, len(x.items))
		for i, v := range x.items {
			parts[i] = v.(string)
		}
		return strings.Join(parts, sep), nil
	})
	def("number", "<(nsb)-:n>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return toNumber(a[0])
	})
	num1 := func(f func(float64) float64) bfn {
		return func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
			x, ok := num(a[0])
			if !ok {
				return nil, nil
			}
			return f(x), nil
		}
	}
	def("floor", "<n-:n>", 1, num1(math.Floor))
	def("ceil", "<n-:n>", 1, num1(math.Ceil))
	def("abs", "<n-:n>", 1, num1(math.Abs))
	def("sqrt", "<n-:n>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x, ok := num(a[0])
		if !ok {
			return nil, nil
		}
		if x < 0 {
			return nil, errV("D3060", x)
		}
		return math.Sqrt(x), nil
	})
	def("power", "<n-n:n>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x, ok := num(a[0])
		if !ok {
			return nil, nil
		}
		y, _ := num(at(a, 1))
		r := math.Pow(x, y)
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, &Error{Code: "D3061", Value: x, Value2: y, Position: -1}
		}
		return r, nil
	})
	def("round", "<n-n?:n>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x, ok := num(a[0])
		if !ok {
			return nil, nil
		}
		p, _ := num(at(a, 1))
		return roundHalfEven(x, int(p)), nil
	})
	def("random", "<:n>", 0, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return rand.Float64(), nil
	})
	def("boolean", "<x-:b>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return toBool(a[0]), nil
	})
	def("not", "<x-:b>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		b := toBool(a[0])
		if b == nil {
			return nil, nil
		}
		return !b.(bool), nil
	})
	def("exists", "<x:b>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return at(a, 0) != nil, nil
	})
	def("keys", "<x-:a<s>>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return keysOf(a[0]), nil
	})
	def("lookup", "<x-s:x>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		k, _ := str(at(a, 1))
		return lookupKey(a[0], k), nil
	})
	def("append", "<xx:a>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return appendVals(at(a, 0), at(a, 1)), nil
	})
	def("spread", "<x-:a<o>>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return spread(a[0]), nil
	})
	def("merge", "<a<o>:o>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return nil, nil
		}
		r := NewObject()
		for _, v := range x.items {
			o := v.(*Object)
			for _, k := range o.Keys() {
				r.Set(k, o.get(k))
			}
		}
		return r, nil
	})
	def("reverse", "<a:a>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return nil, nil
		}
		if len(x.items) <= 1 {
			return x, nil
		}
		r := make([]any, len(x.items))
		for i, v := range x.items {
			r[len(r)-1-i] = v
		}
		return &Array{items: r}, nil
	})
	def("each", "<o-f:a>", 2, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		o, ok := a[0].(*Object)
		if !ok {
			return nil, nil
		}
		f := at(a, 1)
		res := newSeq()
		for _, k := range o.Keys() {
			r, err := ev.apply(f, hofArgs(f, o.get(k), k, o), nil, e)
			if err != nil {
				return nil, err
			}
			if r != nil {
				res.items = append(res.items, r)
			}
		}
		return res, nil
	})
	def("error", "<s?:x>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		m, ok := str(at(a, 0))
		if !ok || m == "" {
			m = "$error() function evaluated"
		}
		return nil, &Error{Code: "D3137", Message: m, Value: m, Position: -1}
	})
	def("assert", "<bs?:x>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		if b, _ := at(a, 0).(bool); !b {
			m, ok := str(at(a, 1))
			if !ok || m == "" {
				m = "$assert() statement failed"
			}
			return nil, &Error{Code: "D3141", Message: m, Value: m, Position: -1}
		}
		return nil, nil
	})
	def("type", "<x:s>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		switch v := at(a, 0).(type) {
		case nil:
			return nil, nil
		case nullType:
			return "null", nil
		case float64:
			return "number", nil
		case string:
			return "string", nil
		case bool:
			return "boolean", nil
		case *Array:
			return "array", nil
		default:
			if isFunction(v) {
				return "function", nil
			}
			return "object", nil
		}
	})
	def("sort", "<af?:a>", 2, fnSort)
	def("shuffle", "<a:a>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return nil, nil
		}
		if len(x.items) <= 1 {
			return x, nil
		}
		r := make([]any, len(x.items))
		copy(r, x.items)
		rand.Shuffle(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
		return &Array{items: r}, nil
	})
	def("distinct", "<x:x>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x, ok := at(a, 0).(*Array)
		if !ok || len(x.items) <= 1 {
			return at(a, 0), nil
		}
		res := &Array{seq: x.seq}
		for _, v := range x.items {
			dup := false
			for _, r := range res.items {
				if deepEqual(v, r) {
					dup = true
					break
				}
			}
			if !dup {
				res.items = append(res.items, v)
			}
		}
		return res, nil
	})
	def("zip", "<a+>", -1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		res := &Array{items: []any{}}
		if len(a) == 0 {
			return res, nil
		}
		n := math.MaxInt
		for _, v := range a {
			x, ok := v.(*Array)
			if !ok {
				n = 0
			} else if len(x.items) < n {
				n = len(x.items)
			}
		}
		for i := 0; i < n; i++ {
			t := make([]any, len(a))
			for j, v := range a {
				t[j] = v.(*Array).items[i]
			}
			res.items = append(res.items, &Array{items: t})
		}
		return res, nil
	})
	def("map", "<af>", 2, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		return applyEach(ev, e, a, func(_, r any) (any, bool) { return r, r != nil })
	})
	def("filter", "<af>", 2, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		return applyEach(ev, e, a, func(v, r any) (any, bool) { return v, boolize(r) })
	})
	def("single", "<af?>", 2, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return nil, nil
		}
		f := at(a, 1)
		found := false
		var result any
		for i, v := range x.items {
			pos := true
			if f != nil {
				r, err := ev.apply(f, hofArgs(f, v, float64(i), x), nil, e)
				if err != nil {
					return nil, err
				}
				pos = boolize(r)
			}
			if pos {
				if found {
					return nil, &Error{Code: "D3138", Index: i, Position: -1}
				}
				result = v
				found = true
			}
		}
		if !found {
			return nil, &Error{Code: "D3139", Position: -1}
		}
		return result, nil
	})
	def("reduce", "<afj?:j>", 3, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		x := arr(a[0])
		if x == nil {
			return nil, nil
		}
		f := at(a, 1)
		ar := arity(f)
		if ar < 2 {
			return nil, &Error{Code: "D3050", Index: 1, Position: -1}
		}
		var result any
		idx := 0
		init := at(a, 2)
		if init == nil && len(x.items) > 0 {
			result = x.items[0]
			idx = 1
		} else {
			result = init
		}
		for ; idx < len(x.items); idx++ {
			args := []any{result, x.items[idx]}
			if ar >= 3 {
				args = append(args, float64(idx))
			}
			if ar >= 4 {
				args = append(args, x)
			}
			r, err := ev.apply(f, args, nil, e)
			if err != nil {
				return nil, err
			}
			result = r
		}
		return result, nil
	})
	def("sift", "<o-f?:o>", 2, func(ev *evaluator, _ any, e *env, a []any) (any, error) {
		o, ok := a[0].(*Object)
		if !ok {
			return nil, nil
		}
		f := at(a, 1)
		res := NewObject()
		for _, k := range o.Keys() {
			r, err := ev.apply(f, hofArgs(f, o.get(k), k, o), nil, e)
			if err != nil {
				return nil, err
			}
			if boolize(r) {
				res.Set(k, o.get(k))
			}
		}
		if res.Len() == 0 {
			return nil, nil
		}
		return res, nil
	})
	def("clone", "<(oa)-:o>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return deepClone(at(a, 0)), nil
	})
	def("base64encode", "<s-:s>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	})
	def("base64decode", "<s-:s>", 1, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			b, _ = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		}
		return string(b), nil
	})
	def("encodeUrlComponent", "<s-:s>", 1, urlFn("encodeUrlComponent", func(s string) (string, bool) { return encodeURI(s, uriUnreservedComponent) }))
	def("encodeUrl", "<s-:s>", 1, urlFn("encodeUrl", func(s string) (string, bool) { return encodeURI(s, uriUnreservedFull) }))
	def("decodeUrlComponent", "<s-:s>", 1, urlFn("decodeUrlComponent", func(s string) (string, bool) { return decodeURI(s, "") }))
	def("decodeUrl", "<s-:s>", 1, urlFn("decodeUrl", func(s string) (string, bool) { return decodeURI(s, ";/?:@&=+$,#") }))
	def("eval", "<sx?:x>", 2, func(ev *evaluator, input any, e *env, a []any) (any, error) {
		src, ok := str(at(a, 0))
		if !ok {
			return nil, nil
		}
		in := input
		if len(a) > 1 && a[1] != nil {
			in = a[1]
			if x, ok := in.(*Array); ok && !x.seq {
				in = &Array{items: x.items, seq: true, outerWrapper: true}
			}
		}
		ast, err := parse(src)
		if err != nil {
			return nil, &Error{Code: "D3120", Value: err.Error(), Position: -1}
		}
		r, err := ev.eval(ast, in, e)
		if err != nil {
			if ee, ok := err.(*Error); ok && ee.Code == "U1001" {
				return nil, err
			}
			return nil, &Error{Code: "D3121", Value: err.Error(), Position: -1}
		}
		return r, nil
	})
	def("formatNumber", "<n-so?:s>", 3, fnFormatNumber)
	def("formatBase", "<n-n?:s>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x, ok := num(a[0])
		if !ok {
			return nil, nil
		}
		x = roundHalfEven(x, 0)
		radix := 10.0
		if r, ok := num(at(a, 1)); ok {
			radix = r
		}
		if radix < 2 || radix > 36 {
			return nil, errV("D3100", radix)
		}
		neg := x < 0
		s := strconv.FormatInt(int64(math.Abs(x)), int(radix))
		if math.Abs(x) >= 9.2e18 {
			s = strconv.FormatFloat(math.Abs(x), 'f', 0, 64)
		}
		if neg {
			s = "-" + s
		}
		return s, nil
	})
	def("formatInteger", "<n-s:s>", 2, fnFormatInteger)
	def("parseInteger", "<s-s:n>", 2, fnParseInteger)
	def("now", "<s?s?:s>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return formatDateTime(float64(ev.timestamp.UnixMilli()), at(a, 0), at(a, 1))
	})
	def("millis", "<:n>", 0, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		return float64(ev.timestamp.UnixMilli()), nil
	})
	def("fromMillis", "<n-s?s?:s>", 3, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		x, ok := num(a[0])
		if !ok {
			return nil, nil
		}
		return formatDateTime(x, at(a, 1), at(a, 2))
	})
	def("toMillis", "<s-s?:n>", 2, func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		if p, ok := str(at(a, 1)); ok {
			return parseDateTime(s, p, ev.timestamp)
		}
		return parseISO(s)
	})
}

func urlFn(name string, f func(string) (string, bool)) bfn {
	return func(ev *evaluator, _ any, _ *env, a []any) (any, error) {
		s, ok := str(a[0])
		if !ok {
			return nil, nil
		}
		r, ok := f(s)
		if !ok {
			return nil, &Error{Code: "D3140", Value: s, Token: name, Position: -1, Message: "Malformed URL passed to $" + name + "(): \"" + s + "\""}
		}
		return r, nil
	}
}

const uriUnreservedComponent = "-_.!~*'()"
const uriUnreservedFull = "-_.!~*'();/?:@&=+$,#"

func encodeURI(s, keep string) (string, bool) {
	if !utf8.ValidString(s) {
		return "", false
	}
	var sb strings.Builder
	for _, b := range []byte(s) {
		if (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || strings.IndexByte(keep, b) >= 0 {
			sb.WriteByte(b)
		} else {
			sb.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(b)|0x100, 16)[1:]))
		}
	}
	return sb.String(), true
}

func decodeURI(s, reserved string) (string, bool) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			out = append(out, s[i])
			continue
		}
		if i+2 >= len(s)+0 && i+2 > len(s)-1 {
			if i+2 > len(s)-1 {
				return "", false
			}
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		if v < 0x80 && strings.IndexByte(reserved, byte(v)) >= 0 {
			out = append(out, s[i:i+3]...)
		} else {
			out = append(out, byte(v))
		}
		i += 2
	}
	if !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

// applyEach is $map and $filter: it applies the function a[1] to every item of the array
// a[0] (nil for no array) and collects, in a sequence, what keep returns for an item and its
// result when keep says to.
func applyEach(ev *evaluator, e *env, a []any, keep func(item, result any) (any, bool)) (any, error) {
	x := arr(a[0])
	if x == nil {
		return nil, nil
	}
	f := at(a, 1)
	res := newSeq()
	for i, v := range x.items {
		r, err := ev.apply(f, hofArgs(f, v, float64(i), x), nil, e)
		if err != nil {
			return nil, err
		}
		if out, ok := keep(v, r); ok {
			res.items = append(res.items, out)
		}
	}
	return res, nil
}

func hofArgs(f any, a1, a2, a3 any) []any {
	n := arity(f)
	args := []any{a1}
	if n >= 2 || n < 0 {
		args = append(args, a2)
	}
	if n >= 3 || n < 0 {
		args = append(args, a3)
	}
	return args
}

func keysOf(v any) any {
	res := newSeq()
	switch t := v.(type) {
	case *Array:
		seen := NewObject()
		for _, it := range t.items {
			if ks, ok := keysOf(it).(*Array); ok {
				for _, k := range ks.items {
					seen.Set(k.(string), true)
				}
			}
		}
		for _, k := range seen.Keys() {
			res.items = append(res.items, k)
		}
	case *Object:
		for _, k := range t.Keys() {
			res.items = append(res.items, k)
		}
	}
	return res
}

func spread(v any) any {
	switch t := v.(type) {
	case *Array:
		var res any = newSeq()
		for _, it := range t.items {
			res = appendVals(res, spread(it))
		}
		return res
	case *Object:
		res := newSeq()
		for _, k := range t.Keys() {
			o := NewObject()
			o.Set(k, t.get(k))
			res.items = append(res.items, o)
		}
		return res
	}
	return v
}

func deepClone(v any) any {
	switch t := v.(type) {
	case *Array:
		r := make([]any, 0, len(t.items))
		for _, x := range t.items {
			if x == nil || isFunction(x) {
				r = append(r, jnull)
				continue
			}
			r = append(r, deepClone(x))
		}
		return &Array{items: r}
	case *Object:
		o := newObjectCap(len(t.keys))
		for _, k := range t.Keys() {
			x := t.get(k)
			if x == nil || isFunction(x) {
				continue
			}
			o.Set(k, deepClone(x))
		}
		return o
	}
	return v
}

var numStrRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$`)
var hexRe = regexp.MustCompile(`^0[xX][0-9A-Fa-f]+$|^0[oO][0-7]+$|^0[bB][01]+$`)

func toNumber(v any) (any, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case float64:
		return t, nil
	case bool:
		if t {
			return 1.0, nil
		}
		return 0.0, nil
	case string:
		if numStrRe.MatchString(t) {
			f, err := strconv.ParseFloat(t, 64)
			if err == nil && !math.IsInf(f, 0) {
				return f, nil
			}
		} else if hexRe.MatchString(t) {
			base := 16
			switch t[1] {
			case 'o', 'O':
				base = 8
			case 'b', 'B':
				base = 2
			}
			n, err := strconv.ParseUint(t[2:], base, 64)
			if err == nil {
				return float64(n), nil
			}
		}
	}
	return nil, &Error{Code: "D3030", Value: v, Index: 1, Position: -1}
}

func roundHalfEven(x float64, prec int) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	if prec != 0 {
		s := strconv.FormatFloat(x, 'e', -1, 64)
		parts := strings.SplitN(s, "e", 2)
		exp, _ := strconv.Atoi(parts[1])
		x, _ = strconv.ParseFloat(parts[0]+"e"+strconv.Itoa(exp+prec), 64)
	}
	r := math.Floor(x + 0.5)
	diff := r - x
	if math.Abs(diff) == 0.5 && math.Abs(math.Mod(r, 2)) == 1 {
		r = r - 1
	}
	if prec != 0 {
		s := strconv.FormatFloat(r, 'e', -1, 64)
		parts := strings.SplitN(s, "e", 2)
		exp, _ := strconv.Atoi(parts[1])
		r, _ = strconv.ParseFloat(parts[0]+"e"+strconv.Itoa(exp-prec), 64)
	}
	if r == 0 {
		r = 0
	}
	return r
}

func jsSlice(rs []rune, start, end float64, hasEnd bool) string {
	n := float64(len(rs))
	norm := func(x float64) int {
		x = math.Trunc(x)
		if x < 0 {
			x += n
			if x < 0 {
				x = 0
			}
		}
		if x > n {
			x = n
		}
		return int(x)
	}
	s := norm(start)
	e := len(rs)
	if hasEnd {
		e = norm(end)
	}
	if s >= e {
		return ""
	}
	return string(rs[s:e])
}

func fnSort(ev *evaluator, _ any, e *env, a []any) (any, error) {
	x := arr(a[0])
	if x == nil {
		return nil, nil
	}
	if len(x.items) <= 1 {
		return x, nil
	}
	f := at(a, 1)
	var comp func(a, b any) (bool, error)
	if f == nil {
		if !isArrayOfNumbers(x) && !isArrayOfStrings(x) {
			return nil, &Error{Code: "D3070", Index: 1, Position: -1}
		}
		comp = func(a, b any) (bool, error) {
			if fa, ok := a.(float64); ok {
				return fa > b.(float64), nil
			}
			return compareJSStrings(a.(string), b.(string)) > 0, nil
		}
	} else {
		comp = func(a, b any) (bool, error) {
			r, err := ev.apply(f, []any{a, b}, nil, e)
			if err != nil {
				return false, err
			}
			return boolize(r), nil
		}
	}
	items := make([]any, len(x.items))
	copy(items, x.items)
	res, err := mergeSort(items, comp)
	if err != nil {
		return nil, err
	}
	return &Array{items: res}, nil
}

func mergeSort(a []any, comp func(a, b any) (bool, error)) ([]any, error) {
	if len(a) <= 1 {
		return a, nil
	}
	mid := len(a) / 2
	l, err := mergeSort(append([]any(nil), a[:mid]...), comp)
	if err != nil {
		return nil, err
	}
	r, err := mergeSort(append([]any(nil), a[mid:]...), comp)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(a))
	i, j := 0, 0
	for i < len(l) && j < len(r) {
		swap, err := comp(l[i], r[j])
		if err != nil {
			return nil, err
		}
		if swap {
			out = append(out, r[j])
			j++
		} else {
			out = append(out, l[i])
			i++
		}
	}
	out = append(out, l[i:]...)
	out = append(out, r[j:]...)
	return out, nil
}

// maxStringLen bounds strings built by padding functions, so that a runaway
// expression fails instead of exhausting memory.
const maxStringLen = 1 << 24

func errTooLarge() error {
	return &Error{Code: "U1001", Position: -1, Message: "Result string too large"}
}
