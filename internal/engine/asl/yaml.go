package asl

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// maxAliasValues bounds the values that aliases may expand to (a "billion
// laughs" document would otherwise explode). Without aliases the 1 MiB size
// limit bounds the document.
const maxAliasValues = 10000

// decodeYAML decodes a YAML document into a node tree, keeping mapping keys in
// document order. It uses yaml.v3 (YAML 1.2 scalars): unlike YAML 1.1 (and
// sigs.k8s.io/yaml, which builds on it), keys and values such as Yes, No, On,
// Off, Y and N stay strings, so a Choice that goes to a state named "No"
// means what it says.
func decodeYAML(data []byte) (*node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		return nil, &syntaxError{code: CodeInvalidJSON, msg: "Invalid YAML: " + msg}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, &syntaxError{code: CodeMissingDescription, msg: "The definition is empty"}
	}
	c := &yamlConverter{}
	n, err := c.convert(doc.Content[0], 0)
	if err != nil {
		return nil, err
	}
	return n, nil
}

type yamlConverter struct {
	seq     int
	inAlias int // depth of alias expansion
	aliased int // values produced by alias expansion
}

func (c *yamlConverter) convert(y *yaml.Node, depth int) (*node, error) {
	if depth > MaxNestingDepth {
		return nil, &syntaxError{code: CodeDefinitionTooDeep, msg: fmt.Sprintf("The definition nests mappings and sequences more than %d levels deep (line %d)", MaxNestingDepth, y.Line)}
	}
	c.seq++
	if c.inAlias > 0 {
		c.aliased++
		if c.aliased > maxAliasValues {
			return nil, &syntaxError{code: CodeDefinitionTooLarge, msg: fmt.Sprintf("The YAML aliases expand to more than %d values", maxAliasValues)}
		}
	}
	n := &node{pos: c.seq}
	switch y.Kind {
	case yaml.AliasNode:
		if y.Alias == nil {
			return nil, c.errorf(y, "unknown alias")
		}
		c.inAlias++
		a, err := c.convert(y.Alias, depth+1)
		c.inAlias--
		if err != nil {
			return nil, err
		}
		a.pos = n.pos
		return a, nil
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			n.kind = kNull
			return n, nil
		}
		return c.convert(y.Content[0], depth)
	case yaml.SequenceNode:
		n.kind = kArray
		for _, e := range y.Content {
			v, err := c.convert(e, depth+1)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, v)
		}
	case yaml.MappingNode:
		n.kind = kObject
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			if k.Kind != yaml.ScalarNode {
				return nil, c.errorf(k, "mapping keys must be scalars")
			}
			if k.Tag == "!!merge" {
				return nil, c.errorf(k, "merge keys (<<) are not supported")
			}
			val, err := c.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.Value)
			n.vals = append(n.vals, val)
		}
	case yaml.ScalarNode:
		return n, c.scalar(y, n)
	default:
		return nil, c.errorf(y, "unsupported YAML node")
	}
	return n, nil
}

func (c *yamlConverter) scalar(y *yaml.Node, n *node) error {
	switch y.ShortTag() {
	case "!!null":
		n.kind = kNull
	case "!!bool":
		var b bool
		if err := y.Decode(&b); err != nil {
			return c.errorf(y, "%v", err)
		}
		n.kind, n.b = kBool, b
	case "!!int":
		var v any
		if err := y.Decode(&v); err != nil {
			return c.errorf(y, "%v", err)
		}
		n.kind = kNumber
		switch t := v.(type) {
		case int:
			n.str = strconv.Itoa(t)
		case int64:
			n.str = strconv.FormatInt(t, 10)
		case uint64:
			n.str = strconv.FormatUint(t, 10)
		case float64:
			n.str = strconv.FormatFloat(t, 'g', -1, 64)
		default:
			return c.errorf(y, "unsupported integer %q", y.Value)
		}
	case "!!float":
		var f float64
		if err := y.Decode(&f); err != nil {
			return c.errorf(y, "%v", err)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return c.errorf(y, "%s is not a JSON number", y.Value)
		}
		n.kind = kNumber
		n.str = strconv.FormatFloat(f, 'g', -1, 64)
		if !strings.ContainsAny(n.str, ".eE") {
			n.str += ".0" // written as a float: keep it a float
		}
	default: // !!str, !!timestamp, !!binary and custom tags keep their text
		n.kind, n.str = kString, y.Value
	}
	return nil
}

func (c *yamlConverter) errorf(y *yaml.Node, format string, args ...any) error {
	return &syntaxError{code: CodeInvalidJSON, msg: fmt.Sprintf("Invalid YAML: %s (line %d, column %d)", fmt.Sprintf(format, args...), y.Line, y.Column)}
}
