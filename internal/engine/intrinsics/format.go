package intrinsics

import (
	"sort"
	"strconv"
	"strings"

	"github.com/kstates/kstates/internal/engine/value"
)

func staticFormat(c *Call) error {
	t := c.args[0]
	if t.pieces != nil {
		if holes := len(t.pieces) - 1; holes != len(c.args)-1 {
			return failf("%s: the template has %d placeholders but %d arguments follow it", c.fn.name, holes, len(c.args)-1)
		}
	}
	return nil
}

// evalFormat fills the template's "{}" placeholders with the arguments,
// printed as AWS (Java) prints them: strings as they are, numbers as JSON,
// null as null, arrays as [a, b] and objects as {k=v, k2=v2}.
func evalFormat(c *Call, a []any, _ *Env) (any, error) {
	pieces := c.args[0].pieces
	if pieces == nil { // the template came from a path, a call or Invoke
		pieces = strings.Split(a[0].(string), "{}")
	}
	if len(pieces)-1 != len(a)-1 {
		return nil, failf("%s: the template has %d placeholders but %d arguments follow it", c.fn.name, len(pieces)-1, len(a)-1)
	}
	var b strings.Builder
	for i, p := range pieces {
		b.WriteString(p)
		if i+1 < len(pieces) {
			b.WriteString(javaString(a[i+1]))
		}
	}
	return b.String(), nil
}

// javaString prints a value as Java's toString does for Jackson-converted
// values.
func javaString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(t)
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = javaString(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + javaString(t[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return value.MarshalString(v)
}
