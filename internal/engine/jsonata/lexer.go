package jsonata

// The tokenizer (port of the jsonata-js tokenizer) and the translation of regex literals to RE2.

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

var operators = map[string]int{
	".": 75, "[": 80, "]": 0, "{": 70, "}": 0, "(": 80, ")": 0, ",": 0, "@": 80, "#": 80, ";": 80, ":": 80,
	"?": 20, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "|": 20, "=": 40, "<": 40, ">": 40, "^": 40,
	"**": 60, "..": 20, ":=": 10, "!=": 40, "<=": 40, ">=": 40, "~>": 40, "and": 30, "or": 25, "in": 40,
	"&": 50, "!": 0, "~": 0,
}

// symbol binding powers as registered in the jsonata parser's symbol table
var symbolLbp = map[string]int{
	"(end)": 0, "(name)": 0, "(literal)": 0, "(regex)": 0, ":": 0, ";": 0, ",": 0, ")": 0, "]": 0, "}": 0, "..": 0,
	".": 75, "+": 50, "-": 50, "*": 60, "/": 60, "%": 60, "=": 40, "<": 40, ">": 40, "!=": 40, "<=": 40, ">=": 40,
	"&": 50, "and": 30, "or": 25, "in": 40, "~>": 40, "**": 0, "(": 80, "[": 80, "^": 40, "{": 70, ":=": 10,
	"@": 80, "#": 80, "?": 20, "|": 0,
}

var escapes = map[byte]string{'"': "\"", '\\': "\\", '/': "/", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t"}

type token struct {
	typ   string // operator, string, number, value, name, variable, regex
	value any
	pos   int
}

type lexer struct {
	path []rune
	pos  int
}

func isWS(c rune) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' }

func (l *lexer) at(i int) rune {
	if i < 0 || i >= len(l.path) {
		return 0
	}
	return l.path[i]
}

func (l *lexer) next(prefix bool) (*token, error) {
	n := len(l.path)
	if l.pos >= n {
		return nil, nil
	}
	c := l.at(l.pos)
	for l.pos < n && isWS(c) {
		l.pos++
		c = l.at(l.pos)
	}
	if c == '/' && l.at(l.pos+1) == '*' {
		start := l.pos
		l.pos += 2
		c = l.at(l.pos)
		for !(c == '*' && l.at(l.pos+1) == '/') {
			l.pos++
			c = l.at(l.pos)
			if l.pos >= n {
				return nil, newErr("S0106", start, "")
			}
		}
		l.pos += 2
		return l.next(prefix)
	}
	mk := func(typ string, v any) *token { return &token{typ: typ, value: v, pos: l.pos} }
	if !prefix && c == '/' {
		l.pos++
		re, err := l.scanRegex()
		if err != nil {
			return nil, err
		}
		return mk("regex", re), nil
	}
	two := func(a, b rune, op string) bool {
		if c == a && l.at(l.pos+1) == b {
			l.pos += 2
			return true
		}
		return false
	}
	for _, p := range [][3]string{{".", ".", ".."}, {":", "=", ":="}, {"!", "=", "!="}, {">", "=", ">="}, {"<", "=", "<="}, {"*", "*", "**"}, {"~", ">", "~>"}} {
		if two(rune(p[0][0]), rune(p[1][0]), p[2]) {
			return mk("operator", p[2]), nil
		}
	}
	if l.pos >= n {
		return nil, nil
	}
	if _, ok := operators[string(c)]; ok {
		l.pos++
		return mk("operator", string(c)), nil
	}
	if c == '"' || c == '\'' {
		q := c
		l.pos++
		var sb strings.Builder
		for l.pos < n {
			c = l.at(l.pos)
			if c == '\\' {
				l.pos++
				c = l.at(l.pos)
				if e, ok := escapes[byte(c)]; ok && c < 128 {
					sb.WriteString(e)
				} else if c == 'u' {
					if l.pos+5 <= n {
						oct := string(l.path[l.pos+1 : l.pos+5])
						if cp, err := strconv.ParseUint(oct, 16, 32); err == nil && !strings.ContainsAny(oct, "+-") {
							r := rune(cp)
							// combine surrogate pairs
							if utf16.IsSurrogate(r) && l.at(l.pos+5) == '\\' && l.at(l.pos+6) == 'u' && l.pos+11 <= n {
								if cp2, err := strconv.ParseUint(string(l.path[l.pos+7:l.pos+11]), 16, 32); err == nil {
									if d := utf16.DecodeRune(r, rune(cp2)); d != 0xFFFD {
										sb.WriteRune(d)
										l.pos += 10
										l.pos++
										continue
									}
								}
							}
							if utf16.IsSurrogate(r) {
								// lone surrogate: keep it as WTF-8 so that URL encoding can reject it
								sb.WriteByte(byte(0xE0 | (r >> 12)))
								sb.WriteByte(byte(0x80 | ((r >> 6) & 0x3F)))
								sb.WriteByte(byte(0x80 | (r & 0x3F)))
							} else {
								sb.WriteRune(r)
							}
							l.pos += 4
						} else {
							return nil, newErr("S0104", l.pos, "")
						}
					} else {
						return nil, newErr("S0104", l.pos, "")
					}
				} else {
					return nil, &Error{Code: "S0103", Position: l.pos, Token: string(c)}
				}
			} else if c == q {
				l.pos++
				return mk("string", sb.String()), nil
			} else {
				sb.WriteRune(c)
			}
			l.pos++
		}
		return nil, newErr("S0101", l.pos, "")
	}
	if m := l.scanNumber(); m != "" {
		f, err := strconv.ParseFloat(m, 64)
		if err == nil {
			l.pos += len(m)
			return mk("number", f), nil
		}
		return nil, &Error{Code: "S0102", Position: l.pos, Token: m}
	}
	if c == '`' {
		l.pos++
		end := -1
		for i := l.pos; i < n; i++ {
			if l.path[i] == '`' {
				end = i
				break
			}
		}
		if end != -1 {
			name := string(l.path[l.pos:end])
			l.pos = end + 1
			return mk("name", name), nil
		}
		l.pos = n
		return nil, newErr("S0105", l.pos, "")
	}
	i := l.pos
	for {
		ch := l.at(i)
		_, isOp := operators[string(ch)]
		if i >= n || isWS(ch) || isOp {
			if l.at(l.pos) == '$' {
				name := string(l.path[l.pos+1 : i])
				l.pos = i
				return mk("variable", name), nil
			}
			name := string(l.path[l.pos:i])
			l.pos = i
			switch name {
			case "or", "in", "and":
				return mk("operator", name), nil
			case "true":
				return mk("value", true), nil
			case "false":
				return mk("value", false), nil
			case "null":
				return mk("value", jnull), nil
			}
			if l.pos == n && name == "" {
				return nil, nil
			}
			return mk("name", name), nil
		}
		i++
	}
}

// scanNumber matches /^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?/ at the
// current position and returns the matched text ("" when there is no number).
func (l *lexer) scanNumber() string {
	i := l.pos
	digit := func(j int) bool { c := l.at(j); return c >= '0' && c <= '9' }
	if l.at(i) == '-' {
		i++
	}
	if l.at(i) == '0' {
		i++
	} else if digit(i) {
		for digit(i) {
			i++
		}
	} else {
		return ""
	}
	if l.at(i) == '.' && digit(i+1) {
		i++
		for digit(i) {
			i++
		}
	}
	if c := l.at(i); c == 'e' || c == 'E' {
		j := i + 1
		if l.at(j) == '+' || l.at(j) == '-' {
			j++
		}
		if digit(j) {
			for digit(j) {
				j++
			}
			i = j
		}
	}
	return string(l.path[l.pos:i])
}

func (l *lexer) scanRegex() (*regexLit, error) {
	start := l.pos
	depth := 0
	n := len(l.path)
	isClosing := func(p int) bool {
		if l.at(p) == '/' && depth == 0 {
			bs := 0
			for l.at(p-(bs+1)) == '\\' {
				bs++
			}
			return bs%2 == 0
		}
		return false
	}
	for l.pos < n {
		c := l.at(l.pos)
		if isClosing(l.pos) {
			pattern := string(l.path[start:l.pos])
			if pattern == "" {
				return nil, newErr("S0301", l.pos, "")
			}
			l.pos++
			fs := l.pos
			for l.at(l.pos) == 'i' || l.at(l.pos) == 'm' {
				l.pos++
			}
			flags := string(l.path[fs:l.pos])
			re, err := compileJSRegex(pattern, flags)
			if err != nil {
				return nil, &Error{Code: "S0303", Position: l.pos, Token: pattern, Message: "Invalid regular expression: " + err.Error()}
			}
			return &regexLit{re: re, src: pattern}, nil
		}
		if (c == '(' || c == '[' || c == '{') && l.at(l.pos-1) != '\\' {
			depth++
		}
		if (c == ')' || c == ']' || c == '}') && l.at(l.pos-1) != '\\' {
			depth--
		}
		l.pos++
	}
	return nil, newErr("S0302", l.pos, "")
}

type regexLit struct {
	re  *regexp.Regexp
	src string
}

// compileJSRegex translates a JavaScript regular expression to Go RE2 syntax where possible.
func compileJSRegex(pattern, flags string) (*regexp.Regexp, error) {
	p := translateJSRegex(pattern)
	pre := ""
	if strings.Contains(flags, "i") {
		pre += "i"
	}
	if strings.Contains(flags, "m") {
		pre += "m"
	}
	if pre != "" {
		p = "(?" + pre + ")" + p
	}
	return regexp.Compile(p)
}

// translateJSRegex rewrites the JavaScript-only escapes \uXXXX and \u{X...}
// into RE2's \x{...}, and identity escapes of characters RE2 does not accept
// escaped (such as "\ ") into the plain character; the rest of the syntax is
// shared by both engines.
func translateJSRegex(p string) string {
	if !strings.Contains(p, `\`) {
		return p
	}
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) {
			if p[i+1] == 'u' {
				if i+6 <= len(p) && isHex4(p[i+2:i+6]) {
					sb.WriteString(`\x{` + p[i+2:i+6] + `}`)
					i += 5
					continue
				}
				if i+2 < len(p) && p[i+2] == '{' {
					if end := strings.IndexByte(p[i:], '}'); end > 0 {
						sb.WriteString(`\x` + p[i+2:i+end+1])
						i += end
						continue
					}
				}
			}
			c := p[i+1]
			isPunct := c < 0x80 && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && c > ' ' && c != 0x7f
			isAlnum := (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			if !isPunct && !isAlnum {
				// identity escape of a space, control or non-ASCII character
				r, size := utf8.DecodeRuneInString(p[i+1:])
				sb.WriteString(`\x{` + strconv.FormatInt(int64(r), 16) + `}`)
				i += size
				continue
			}
			sb.WriteByte(p[i])
			sb.WriteByte(p[i+1])
			i++
			continue
		}
		sb.WriteByte(p[i])
	}
	return sb.String()
}

func isHex4(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
			return false
		}
	}
	return len(s) == 4
}
