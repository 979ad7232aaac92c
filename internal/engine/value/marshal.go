package value

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Marshal encodes v as compact JSON with object keys sorted.
//
// Numbers are printed as AWS Step Functions (Java, Jackson) prints them:
// int64 in decimal; float64 as Java's Double.toString does, that is with at
// least one fractional digit ("2.0", "0.5") when 1e-3 <= |x| < 1e7 and in
// scientific notation otherwise ("1.0E7", "1.5E-4"). NaN and infinities,
// which JSON cannot carry, are printed as null. Strings escape '"', '\\'
// and control characters (\b \t \n \f \r, others as \u00XX) and nothing else;
// invalid UTF-8 is replaced by U+FFFD.
func Marshal(v any) []byte {
	return Append(make([]byte, 0, 64), v)
}

// MarshalString is Marshal returning a string.
func MarshalString(v any) string { return string(Marshal(v)) }

// Append appends Marshal(v) to b.
func Append(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		if t {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case float64:
		return AppendFloat(b, t)
	case string:
		return appendString(b, t)
	case []any:
		b = append(b, '[')
		for i, x := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = Append(b, x)
		}
		return append(b, ']')
	case map[string]any:
		if len(t) == 0 {
			return append(b, "{}"...)
		}
		var arr [16]string
		keys := arr[:0]
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = Append(b, t[k])
		}
		return append(b, '}')
	case int:
		return strconv.AppendInt(b, int64(t), 10)
	case int32:
		return strconv.AppendInt(b, int64(t), 10)
	case uint64:
		return strconv.AppendUint(b, t, 10)
	case float32:
		return AppendFloat(b, float64(t))
	case json.Number:
		if n, ok := Number(t); ok {
			return Append(b, n)
		}
		return append(b, "null"...)
	}
	// Outside the model: fall back to encoding/json, then normalise.
	raw, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	x, err := Parse(raw)
	if err != nil {
		return append(b, "null"...)
	}
	return Append(b, x)
}

// Number converts a Go number of any kind to the model (int64 or float64).
func Number(v any) (any, bool) {
	switch t := v.(type) {
	case int64, float64:
		return t, true
	case int:
		return int64(t), true
	case int32:
		return int64(t), true
	case int16:
		return int64(t), true
	case int8:
		return int64(t), true
	case uint8:
		return int64(t), true
	case uint16:
		return int64(t), true
	case uint32:
		return int64(t), true
	case uint:
		if uint64(t) <= math.MaxInt64 {
			return int64(t), true
		}
		return float64(t), true
	case uint64:
		if t <= math.MaxInt64 {
			return int64(t), true
		}
		return float64(t), true
	case float32:
		return float64(t), true
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i, true
		}
		if f, err := t.Float64(); err == nil {
			return f, true
		}
	}
	return nil, false
}

// AppendFloat appends f formatted as Java's Double.toString formats it.
func AppendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	// Shortest round-trip digits, as "-d.ddde±XX".
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	// Split digits and exponent.
	var digits [24]byte
	nd := 0
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits[nd] = s[i]
			nd++
		}
	}
	exp := 0
	neg := s[i+1] == '-'
	for j := i + 2; j < len(s); j++ {
		exp = exp*10 + int(s[j]-'0')
	}
	if neg {
		exp = -exp
	}
	// value = d1.d2...dn × 10^exp
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			// integer part: digits[0..exp]
			for k := 0; k <= exp; k++ {
				if k < nd {
					b = append(b, digits[k])
				} else {
					b = append(b, '0')
				}
			}
			b = append(b, '.')
			if exp+1 < nd {
				b = append(b, digits[exp+1:nd]...)
			} else {
				b = append(b, '0')
			}
			return b
		}
		b = append(b, '0', '.')
		for k := 0; k < -exp-1; k++ {
			b = append(b, '0')
		}
		return append(b, digits[:nd]...)
	}
	b = append(b, digits[0], '.')
	if nd > 1 {
		b = append(b, digits[1:nd]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

const hex = "0123456789abcdef"

// escapes[c] is the escape letter for a control or special byte, 'u' for
// \u00XX, 0 for bytes written as they are.
var escapes = func() (t [256]byte) {
	for c := 0; c < 0x20; c++ {
		t[c] = 'u'
	}
	t['\b'], t['\t'], t['\n'], t['\f'], t['\r'] = 'b', 't', 'n', 'f', 'r'
	t['"'], t['\\'] = '"', '\\'
	return t
}()

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			e := escapes[c]
			if e == 0 {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			if e == 'u' {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, '\\', e)
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
