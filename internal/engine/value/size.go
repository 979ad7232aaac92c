package value

import (
	"strconv"
	"unicode/utf8"
)

// Size returns len(Marshal(v)) without building the encoding: it walks the
// value, adding up the lengths of its parts (object keys need no sorting to
// be counted). It is called on every state transition for the 256 KiB limit.
func Size(v any) int {
	switch t := v.(type) {
	case nil:
		return 4
	case bool:
		if t {
			return 4
		}
		return 5
	case int64:
		return intLen(t)
	case float64:
		var tmp [40]byte
		return len(AppendFloat(tmp[:0], t))
	case string:
		return stringSize(t)
	case []any:
		n := 2
		if len(t) > 1 {
			n += len(t) - 1
		}
		for _, x := range t {
			n += Size(x)
		}
		return n
	case map[string]any:
		n := 2
		if len(t) > 1 {
			n += len(t) - 1
		}
		for k, x := range t {
			n += stringSize(k) + 1 + Size(x)
		}
		return n
	}
	return len(Marshal(v))
}

func intLen(i int64) int {
	if i >= 0 && i < 10 {
		return 1
	}
	var tmp [24]byte
	return len(strconv.AppendInt(tmp[:0], i, 10))
}

// stringSize is the length of appendString's output for s.
func stringSize(s string) int {
	n := 2 + len(s)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch escapes[c] {
			case 0:
			case 'u':
				n += 5
			default:
				n++
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			n += 2 // one byte becomes the three bytes of U+FFFD
		}
		i += w
	}
	return n
}
