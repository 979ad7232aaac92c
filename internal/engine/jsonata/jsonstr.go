package jsonata

import (
	"math"
	"strconv"
	"strings"
)

// formatJSNumber formats a float64 as JavaScript's Number.prototype.toString does.
func formatJSNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	neg := f < 0
	if neg {
		f = -f
	}
	es := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expS, _ := strings.Cut(es, "e")
	exp, _ := strconv.Atoi(expS)
	digits := strings.Replace(mant, ".", "", 1)
	k := len(digits)
	n := exp + 1
	var s string
	switch {
	case k <= n && n <= 21:
		s = digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		s = digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		s = "0." + strings.Repeat("0", -n) + digits
	default:
		e := n - 1
		sign := "+"
		if e < 0 {
			sign = "-"
			e = -e
		}
		if k == 1 {
			s = digits + "e" + sign + strconv.Itoa(e)
		} else {
			s = digits[:1] + "." + digits[1:] + "e" + sign + strconv.Itoa(e)
		}
	}
	if neg {
		return "-" + s
	}
	return s
}

// toJSString implements $string (JSON.stringify with 15 significant digits).
func toJSString(v any, pretty bool) (string, error) { return toJSStringLimited(v, pretty, nil) }

// jsonWriter serialises values; check (optional) is polled to enforce time limits.
type jsonWriter struct {
	sb     strings.Builder
	pretty bool
	check  func() error
	n      int
}

func toJSStringLimited(v any, pretty bool, check func() error) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return "", errV("D3001", t)
		}
	}
	if isFunction(v) {
		return "", nil
	}
	if a, ok := v.(*Array); ok && a.outerWrapper && len(a.items) > 0 {
		v = a.items[0]
	}
	w := &jsonWriter{pretty: pretty, check: check}
	if err := w.write(v, ""); err != nil {
		return "", err
	}
	return w.sb.String(), nil
}

func writeJSON(sb *strings.Builder, v any, pretty bool, indent string) error {
	w := &jsonWriter{pretty: pretty}
	err := w.write(v, indent)
	sb.WriteString(w.sb.String())
	return err
}

func num15(f float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	return r
}

func writeJSONString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			sb.WriteString(`\"`)
		case '\\':
			sb.WriteString(`\\`)
		case '\b':
			sb.WriteString(`\b`)
		case '\f':
			sb.WriteString(`\f`)
		case '\n':
			sb.WriteString(`\n`)
		case '\r':
			sb.WriteString(`\r`)
		case '\t':
			sb.WriteString(`\t`)
		default:
			if r < 0x20 {
				sb.WriteString(`\u00`)
				sb.WriteString(strconv.FormatInt(int64(r)|0x100, 16)[1:])
			} else {
				sb.WriteRune(r)
			}
		}
	}
	sb.WriteByte('"')
}

func (w *jsonWriter) write(v any, indent string) error {
	sb := &w.sb
	pretty := w.pretty
	if w.check != nil {
		w.n++
		if w.n&0x3FFF == 0 {
			if err := w.check(); err != nil {
				return err
			}
		}
	}
	switch t := v.(type) {
	case nil, nullType:
		sb.WriteString("null")
	case bool:
		if t {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return errV("D1001", t)
		} else {
			sb.WriteString(formatJSNumber(num15(t)))
		}
	case string:
		writeJSONString(sb, t)
	case *Array:
		if len(t.items) == 0 {
			sb.WriteString("[]")
			return nil
		}
		sb.WriteByte('[')
		inner := indent + "  "
		for i, x := range t.items {
			if i > 0 {
				sb.WriteByte(',')
			}
			if pretty {
				sb.WriteString("\n" + inner)
			}
			if isFunction(x) {
				sb.WriteString(`""`)
				continue
			}
			if err := w.write(x, inner); err != nil {
				return err
			}
		}
		if pretty {
			sb.WriteString("\n" + indent)
		}
		sb.WriteByte(']')
	case *Object:
		sb.WriteByte('{')
		inner := indent + "  "
		first := true
		for _, k := range t.Keys() {
			x := t.get(k)
			if x == nil {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			if pretty {
				sb.WriteString("\n" + inner)
			}
			writeJSONString(sb, k)
			sb.WriteByte(':')
			if pretty {
				sb.WriteByte(' ')
			}
			if isFunction(x) {
				sb.WriteString(`""`)
				continue
			}
			if err := w.write(x, inner); err != nil {
				return err
			}
		}
		if pretty && !first {
			sb.WriteString("\n" + indent)
		}
		sb.WriteByte('}')
	case map[string]any:
		return w.write(t["@"], indent)
	default:
		if isFunction(v) {
			sb.WriteString(`""`)
		} else {
			sb.WriteString("null")
		}
	}
	return nil
}
