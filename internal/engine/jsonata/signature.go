package jsonata

import (
	"regexp"
	"strings"
)

type sigParam struct {
	regex        string
	typ          string
	context      bool
	contextRegex *regexp.Regexp
	subtype      string
}

type signature struct {
	def    string
	params []*sigParam
	regex  *regexp.Regexp
}

func findClosing(s []rune, start int, open, close rune) int {
	depth := 1
	pos := start
	for pos < len(s) {
		pos++
		if pos >= len(s) {
			break
		}
		c := s[pos]
		if c == close {
			depth--
			if depth == 0 {
				break
			}
		} else if c == open {
			depth++
		}
	}
	return pos
}

func parseSignature(sig string) (*signature, *Error) {
	s := []rune(sig)
	pos := 1
	var params []*sigParam
	param := &sigParam{}
	prev := param
	next := func() {
		params = append(params, param)
		prev = param
		param = &sigParam{}
	}
	for pos < len(s) {
		c := s[pos]
		if c == ':' {
			break
		}
		switch c {
		case 's', 'n', 'b', 'l', 'o':
			param.regex = "[" + string(c) + "m]"
			param.typ = string(c)
			next()
		case 'a':
			param.regex = "[asnblfom]"
			param.typ = "a"
			next()
		case 'f':
			param.regex = "f"
			param.typ = "f"
			next()
		case 'j':
			param.regex = "[asnblom]"
			param.typ = "j"
			next()
		case 'x':
			param.regex = "[asnblfom]"
			param.typ = "x"
			next()
		case '-':
			prev.context = true
			prev.contextRegex = regexp.MustCompile(prev.regex)
			prev.regex += "?"
		case '?', '+':
			prev.regex += string(c)
		case '(':
			end := findClosing(s, pos, '(', ')')
			if end > len(s) {
				end = len(s)
			}
			choice := string(s[pos+1 : min(end, len(s))])
			if strings.Contains(choice, "<") {
				return nil, &Error{Code: "S0402", Value: choice, Index: pos}
			}
			param.regex = "[" + choice + "m]"
			param.typ = "(" + choice + ")"
			pos = end
			next()
		case '<':
			if prev.typ == "a" || prev.typ == "f" {
				end := findClosing(s, pos, '<', '>')
				prev.subtype = string(s[pos+1 : min(end, len(s))])
				pos = end
			} else {
				return nil, &Error{Code: "S0401", Value: prev.typ, Index: pos}
			}
		}
		pos++
	}
	var rb strings.Builder
	rb.WriteString("^")
	for _, p := range params {
		rb.WriteString("(" + p.regex + ")")
	}
	rb.WriteString("$")
	re, err := regexp.Compile(rb.String())
	if err != nil {
		return nil, &Error{Code: "S0401", Value: sig}
	}
	return &signature{def: sig, params: params, regex: re}, nil
}

func mustSig(s string) *signature {
	sig, err := parseSignature(s)
	if err != nil {
		panic(err)
	}
	return sig
}

func typeSymbol(v any) byte {
	if isFunction(v) {
		return 'f'
	}
	switch v.(type) {
	case string:
		return 's'
	case float64:
		return 'n'
	case bool:
		return 'b'
	case nullType:
		return 'l'
	case *Array:
		return 'a'
	case *Object, map[string]any:
		return 'o'
	}
	return 'm'
}

var arraySigMapping = map[string]string{"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"}

func (sg *signature) validate(args []any, context any) ([]any, error) {
	sb := make([]byte, len(args))
	for i, a := range args {
		sb[i] = typeSymbol(a)
	}
	supplied := string(sb)
	m := sg.regex.FindStringSubmatch(supplied)
	if m == nil {
		partial := "^"
		goodTo := 0
		for _, p := range sg.params {
			partial += p.regex
			re := regexp.MustCompile(partial)
			mm := re.FindString(supplied)
			if mm == "" && !re.MatchString(supplied) {
				return nil, &Error{Code: "T0410", Value: at(args, goodTo), Index: goodTo + 1, Position: -1}
			}
			goodTo = len(mm)
		}
		return nil, &Error{Code: "T0410", Value: at(args, goodTo), Index: goodTo + 1, Position: -1}
	}
	var out []any
	argIndex := 0
	for i, p := range sg.params {
		match := m[i+1]
		if match == "" {
			if p.context && p.contextRegex != nil {
				ct := typeSymbol(context)
				if p.contextRegex.MatchString(string(ct)) {
					out = append(out, context)
				} else {
					return nil, &Error{Code: "T0411", Value: context, Index: argIndex + 1, Position: -1}
				}
			} else {
				out = append(out, at(args, argIndex))
				argIndex++
			}
			continue
		}
		for _, single := range match {
			arg := at(args, argIndex)
			if p.typ == "a" {
				if single == 'm' {
					arg = nil
				} else {
					ok := true
					if p.subtype != "" {
						if single != 'a' && match != p.subtype {
							ok = false
						} else if single == 'a' {
							arr := arg.(*Array)
							if len(arr.items) > 0 {
								it := typeSymbol(arr.items[0])
								if it != p.subtype[0] {
									ok = false
								} else {
									for _, v := range arr.items {
										if typeSymbol(v) != it {
											ok = false
											break
										}
									}
								}
							}
						}
					}
					if !ok {
						return nil, &Error{Code: "T0412", Value: arg, Index: argIndex + 1, Position: -1, Value2: arraySigMapping[p.subtype]}
					}
					if single != 'a' {
						arg = newArr([]any{arg})
					}
				}
			}
			out = append(out, arg)
			argIndex++
		}
	}
	return out, nil
}

func at(a []any, i int) any {
	if i < len(a) {
		return a[i]
	}
	return nil
}
