package jsonata

// Regular expressions and custom matchers used by $match, $replace, $split and $contains.

import (
	"math"
	"strconv"
	"strings"
)

type matchRes struct {
	match    string
	start    int // byte offsets
	end      int
	startU16 int
	groups   []any
}

func u16len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// matchAll runs a matcher (regex or custom matcher function) over s, returning
// at most limit matches (limit < 0 means all).
func (ev *evaluator) matchAll(matcher any, s string, e *env, limit int) ([]matchRes, error) {
	var out []matchRes
	if re, ok := matcher.(*Regex); ok {
		all := re.lit.re.FindAllStringSubmatchIndex(s, -1)
		for i, m := range all {
			if limit >= 0 && len(out) >= limit {
				break
			}
			if i > 0 && m[0] == m[1] {
				return nil, &Error{Code: "D1004", Value: re.lit.src, Position: -1}
			}
			mr := matchRes{match: s[m[0]:m[1]], start: m[0], end: m[1], startU16: u16len(s[:m[0]])}
			for g := 1; g < len(m)/2; g++ {
				if m[2*g] < 0 {
					mr.groups = append(mr.groups, "")
				} else {
					mr.groups = append(mr.groups, s[m[2*g]:m[2*g+1]])
				}
			}
			if mr.groups == nil {
				mr.groups = []any{}
			}
			out = append(out, mr)
			if m[0] == m[1] && m[1] < len(s) {
				return nil, &Error{Code: "D1004", Value: re.lit.src, Position: -1}
			}
		}
		return out, nil
	}
	// custom matcher function returning {match, start, end, groups, next}
	r, err := ev.apply(matcher, []any{s}, nil, e)
	if err != nil {
		return nil, err
	}
	for r != nil {
		if limit >= 0 && len(out) >= limit {
			break
		}
		o, ok := r.(*Object)
		if !ok {
			return nil, &Error{Code: "T1010", Position: -1}
		}
		m, _ := o.get("match").(string)
		st, ok1 := o.get("start").(float64)
		en, ok2 := o.get("end").(float64)
		if !ok1 || !ok2 {
			return nil, &Error{Code: "T1010", Position: -1}
		}
		mr := matchRes{match: m, start: u16ToByte(s, int(st)), end: u16ToByte(s, int(en)), startU16: int(st)}
		if g, ok := o.get("groups").(*Array); ok {
			mr.groups = g.items
		} else {
			mr.groups = []any{}
		}
		out = append(out, mr)
		next := o.get("next")
		if !isFunction(next) {
			break
		}
		r, err = ev.apply(next, nil, nil, e)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func u16ToByte(s string, n int) int {
	c := 0
	for i, r := range s {
		if c >= n {
			return i
		}
		if r >= 0x10000 {
			c += 2
		} else {
			c++
		}
	}
	return len(s)
}

func regexMatchObj(re *Regex, s string, from int) (any, error) {
	m := re.lit.re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	o := NewObject()
	o.Set("match", s[m[0]:m[1]])
	o.Set("start", float64(u16len(s[:m[0]])))
	o.Set("end", float64(u16len(s[:m[1]])))
	g := []any{}
	for i := 1; i < len(m)/2; i++ {
		if m[2*i] >= 0 {
			g = append(g, s[m[2*i]:m[2*i+1]])
		} else {
			g = append(g, "")
		}
	}
	o.Set("groups", &Array{items: g})
	return o, nil
}

func fnReplace(ev *evaluator, _ any, e *env, a []any) (any, error) {
	s, ok := str(a[0])
	if !ok {
		return nil, nil
	}
	pattern := at(a, 1)
	repl := at(a, 2)
	if p, ok := pattern.(string); ok && p == "" {
		return nil, &Error{Code: "D3010", Value: p, Index: 2, Position: -1}
	}
	limit := -1
	if l, ok := num(at(a, 3)); ok {
		if l < 0 {
			return nil, errV("D3011", l)
		}
		limit = int(l)
	}
	if limit == 0 {
		return s, nil
	}
	if p, ok := pattern.(string); ok {
		rs, _ := repl.(string)
		if limit < 0 {
			return strings.ReplaceAll(s, p, rs), nil
		}
		return strings.Replace(s, p, rs, limit), nil
	}
	ms, err := ev.matchAll(pattern, s, e, limit)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return s, nil
	}
	var sb strings.Builder
	pos := 0
	for _, m := range ms {
		sb.WriteString(s[pos:m.start])
		var rw any
		if rs, ok := repl.(string); ok {
			rw = substituteGroups(rs, m)
		} else {
			mo := NewObject()
			mo.Set("match", m.match)
			mo.Set("index", float64(m.startU16))
			mo.Set("groups", &Array{items: m.groups})
			r, err := ev.apply(repl, []any{mo}, nil, e)
			if err != nil {
				return nil, err
			}
			rw = r
		}
		rws, ok := rw.(string)
		if !ok {
			return nil, errV("D3012", rw)
		}
		sb.WriteString(rws)
		pos = m.start + len(m.match)
	}
	sb.WriteString(s[pos:])
	return sb.String(), nil
}

func substituteGroups(repl string, m matchRes) string {
	var sb strings.Builder
	pos := 0
	idx := strings.Index(repl, "$")
	for idx != -1 && pos < len(repl) {
		sb.WriteString(repl[pos:idx])
		pos = idx + 1
		if pos >= len(repl) {
			sb.WriteString("$")
			break
		}
		d := repl[pos]
		if d == '$' {
			sb.WriteString("$")
			pos++
		} else if d == '0' {
			sb.WriteString(m.match)
			pos++
		} else {
			maxDigits := 1
			if len(m.groups) > 0 {
				maxDigits = int(math.Floor(math.Log10(float64(len(m.groups))))) + 1
			}
			end := min(pos+maxDigits, len(repl))
			n, ok := leadingInt(repl[pos:end])
			if maxDigits > 1 && n > len(m.groups) {
				n, ok = leadingInt(repl[pos:max(pos, end-1)])
			}
			if ok {
				if len(m.groups) > 0 && n >= 1 && n <= len(m.groups) {
					if g, ok := m.groups[n-1].(string); ok {
						sb.WriteString(g)
					}
				}
				pos += len(strconv.Itoa(n))
			} else {
				sb.WriteString("$")
			}
		}
		idx = strings.Index(repl[pos:], "$")
		if idx >= 0 {
			idx += pos
		}
	}
	if pos < len(repl) {
		sb.WriteString(repl[pos:])
	}
	return sb.String()
}

func leadingInt(s string) (int, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(s[:i])
	return n, true
}
