package jsonata

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Port of jsonata-js src/datetime.js (XPath F&O format-integer / format-dateTime).

var (
	fewWords     = []string{"Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten", "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"}
	ordinalWords = []string{"Zeroth", "First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth", "Eleventh", "Twelfth", "Thirteenth", "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"}
	decadeWords  = []string{"Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety", "Hundred"}
	magnitudes   = []string{"Thousand", "Million", "Billion", "Trillion"}
	wordValues   = map[string]float64{}
	wordKeys     []string
)

func init() {
	add := func(k string, v float64) {
		if _, ok := wordValues[k]; !ok {
			wordKeys = append(wordKeys, k)
		}
		wordValues[k] = v
	}
	for i, w := range fewWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range ordinalWords {
		add(strings.ToLower(w), float64(i))
	}
	for i, w := range decadeWords {
		lw := strings.ToLower(w)
		add(lw, float64((i+2)*10))
		add(lw[:len(lw)-1]+"ieth", float64((i+2)*10))
	}
	add("hundredth", 100)
	for i, w := range magnitudes {
		lw := strings.ToLower(w)
		v := math.Pow(10, float64((i+1)*3))
		add(lw, v)
		add(lw+"th", v)
	}
}

func numberToWords(value float64, ordinal bool) string {
	var lookup func(num float64, prev, ord bool) string
	lookup = func(num float64, prev, ord bool) string {
		words := ""
		if num <= 19 {
			if prev {
				words = " and "
			}
			if ord {
				words += ordinalWords[int(num)]
			} else {
				words += fewWords[int(num)]
			}
		} else if num < 100 {
			tens := int(num / 10)
			rem := math.Mod(num, 10)
			if prev {
				words = " and "
			}
			words += decadeWords[tens-2]
			if rem > 0 {
				words += "-" + lookup(rem, false, ord)
			} else if ord {
				words = words[:len(words)-1] + "ieth"
			}
		} else if num < 1000 {
			h := int(num / 100)
			rem := math.Mod(num, 100)
			if prev {
				words = ", "
			}
			words += fewWords[h] + " Hundred"
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		} else {
			mag := int(math.Floor(math.Log10(num) / 3))
			if mag > len(magnitudes) {
				mag = len(magnitudes)
			}
			factor := math.Pow(10, float64(mag*3))
			mant := math.Floor(num / factor)
			rem := num - mant*factor
			if prev {
				words = ", "
			}
			words += lookup(mant, false, false) + " " + magnitudes[mag-1]
			if rem > 0 {
				words += lookup(rem, true, ord)
			} else if ord {
				words += "th"
			}
		}
		return words
	}
	return lookup(value, false, ordinal)
}

var wordSplitRe = regexp.MustCompile(`,\s|\sand\s|[\s\\-]`)

func wordsToNumber(text string) float64 {
	parts := wordSplitRe.Split(text, -1)
	segs := []float64{0}
	for _, p := range parts {
		v, ok := wordValues[p]
		if !ok {
			v = math.NaN()
		}
		if v < 100 || math.IsNaN(v) {
			top := segs[len(segs)-1]
			segs = segs[:len(segs)-1]
			if top >= 1000 {
				segs = append(segs, top)
				top = 0
			}
			segs = append(segs, top+v)
		} else {
			top := segs[len(segs)-1]
			segs[len(segs)-1] = top * v
		}
	}
	r := 0.0
	for _, s := range segs {
		r += s
	}
	return r
}

var romanNumerals = []struct {
	v float64
	s string
}{{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"}, {40, "xl"}, {10, "x"}, {9, "ix"}, {5, "v"}, {4, "iv"}, {1, "i"}}

var romanValues = map[byte]float64{'M': 1000, 'D': 500, 'C': 100, 'L': 50, 'X': 10, 'V': 5, 'I': 1}

func decimalToRoman(v float64) string {
	var sb strings.Builder
	for v > 0 {
		found := false
		for _, n := range romanNumerals {
			if v >= n.v {
				sb.WriteString(n.s)
				v -= n.v
				found = true
				break
			}
		}
		if !found {
			break
		}
	}
	return sb.String()
}

func romanToDecimal(r string) float64 {
	dec := 0.0
	mx := 1.0
	for i := len(r) - 1; i >= 0; i-- {
		v := romanValues[r[i]]
		if v < mx {
			dec -= v
		} else {
			mx = v
			dec += v
		}
	}
	return dec
}

func decimalToLetters(v float64, a rune) string {
	var letters []rune
	for v > 0 {
		letters = append([]rune{rune(int(math.Mod(v-1, 26))) + a}, letters...)
		v = math.Floor((v - 1) / 26)
	}
	return string(letters)
}

func lettersToDecimal(s string, a rune) float64 {
	d := 0.0
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		d += float64(rs[len(rs)-i-1]-a+1) * math.Pow(26, float64(i))
	}
	return d
}

type sepDef struct {
	position  int
	character string
}

type intFormat struct {
	primary         string // decimal, letters, roman, words, sequence
	tcase           string // upper, lower, title
	ordinal         bool
	zeroCode        rune
	mandatoryDigits int
	optionalDigits  int
	regular         bool
	regularSep      sepDef
	separators      []sepDef
	token           string
	n               int
}

var decimalGroups = []rune{0x30, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10}

func analyseIntegerPicture(picture string) (*intFormat, error) {
	f := &intFormat{primary: "decimal", tcase: "lower"}
	primary := picture
	if semi := strings.LastIndex(picture, ";"); semi != -1 {
		primary = picture[:semi]
		mod := picture[semi+1:]
		if strings.HasPrefix(mod, "o") {
			f.ordinal = true
		}
	}
	switch primary {
	case "A":
		f.tcase = "upper"
		f.primary = "letters"
	case "a":
		f.primary = "letters"
	case "I":
		f.tcase = "upper"
		f.primary = "roman"
	case "i":
		f.primary = "roman"
	case "W":
		f.tcase = "upper"
		f.primary = "words"
	case "Ww":
		f.tcase = "title"
		f.primary = "words"
	case "w":
		f.primary = "words"
	default:
		zero := rune(-1)
		mandatory, optional, sepPos := 0, 0, 0
		var seps []sepDef
		rs := []rune(primary)
		for i := len(rs) - 1; i >= 0; i-- {
			cp := rs[i]
			digit := false
			for _, g := range decimalGroups {
				if cp >= g && cp <= g+9 {
					digit = true
					mandatory++
					sepPos++
					if zero == -1 {
						zero = g
					} else if g != zero {
						return nil, &Error{Code: "D3131", Position: -1}
					}
					break
				}
			}
			if !digit {
				if cp == '#' {
					sepPos++
					optional++
				} else {
					seps = append(seps, sepDef{position: sepPos, character: string(cp)})
				}
			}
		}
		if mandatory > 0 {
			f.primary = "decimal"
			f.zeroCode = zero
			f.mandatoryDigits = mandatory
			f.optionalDigits = optional
			if reg := regularRepeat(seps); reg > 0 {
				f.regular = true
				f.regularSep = sepDef{position: reg, character: seps[0].character}
			} else {
				f.separators = seps
			}
		} else {
			f.primary = "sequence"
			f.token = primary
		}
	}
	return f, nil
}

func regularRepeat(seps []sepDef) int {
	if len(seps) == 0 {
		return 0
	}
	for _, s := range seps[1:] {
		if s.character != seps[0].character {
			return 0
		}
	}
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	factor := seps[0].position
	for _, s := range seps[1:] {
		factor = gcd(factor, s.position)
	}
	for i := 1; i <= len(seps); i++ {
		found := false
		for _, s := range seps {
			if s.position == i*factor {
				found = true
				break
			}
		}
		if !found {
			return 0
		}
	}
	return factor
}

func formatIntegerWith(value float64, f *intFormat) (string, error) {
	if math.IsInf(value, 0) || math.IsNaN(value) {
		return "", &Error{Code: "D3001", Position: -1, Value: value, Message: "Attempting to invoke string function on Infinity or NaN"}
	}
	neg := value < 0
	value = math.Abs(value)
	var s string
	switch f.primary {
	case "letters":
		a := 'a'
		if f.tcase == "upper" {
			a = 'A'
		}
		s = decimalToLetters(value, a)
	case "roman":
		if value >= 1e7 {
			return "", &Error{Code: "U1001", Position: -1, Message: "Number too large to format as roman numerals"}
		}
		s = decimalToRoman(value)
		if f.tcase == "upper" {
			s = strings.ToUpper(s)
		}
	case "words":
		s = numberToWords(value, f.ordinal)
		if f.tcase == "upper" {
			s = strings.ToUpper(s)
		} else if f.tcase == "lower" {
			s = strings.ToLower(s)
		}
	case "decimal":
		s = formatJSNumber(value)
		if f.mandatoryDigits > maxStringLen {
			return "", errTooLarge()
		}
		if pad := f.mandatoryDigits - len(s); pad > 0 {
			s = strings.Repeat("0", pad) + s
		}
		if f.zeroCode != 0x30 {
			rs := []rune(s)
			for i, r := range rs {
				rs[i] = r + f.zeroCode - 0x30
			}
			s = string(rs)
		}
		if f.regular {
			rs := []rune(s)
			n := (len(rs) - 1) / f.regularSep.position
			for ii := n; ii > 0; ii-- {
				pos := len(rs) - ii*f.regularSep.position
				rs = append(rs[:pos:pos], append([]rune(f.regularSep.character), rs[pos:]...)...)
			}
			s = string(rs)
		} else {
			for i := len(f.separators) - 1; i >= 0; i-- {
				sep := f.separators[i]
				rs := []rune(s)
				pos := len(rs) - sep.position
				if pos < 0 {
					pos = 0
				}
				s = string(rs[:pos]) + sep.character + string(rs[pos:])
			}
		}
		if f.ordinal {
			rs := []rune(s)
			last := rs[len(rs)-1]
			suffix := map[rune]string{'1': "st", '2': "nd", '3': "rd"}[last]
			if suffix == "" || (len(rs) > 1 && rs[len(rs)-2] == '1') {
				suffix = "th"
			}
			s += suffix
		}
	case "sequence":
		return "", &Error{Code: "D3130", Value: f.token, Position: -1}
	}
	if neg {
		s = "-" + s
	}
	return s, nil
}

func fnFormatInteger(ev *evaluator, _ any, _ *env, a []any) (any, error) {
	x, ok := num(a[0])
	if !ok {
		return nil, nil
	}
	p, _ := str(at(a, 1))
	f, err := analyseIntegerPicture(p)
	if err != nil {
		return nil, err
	}
	s, err := formatIntegerWith(math.Floor(x), f)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func fnParseInteger(ev *evaluator, _ any, _ *env, a []any) (any, error) {
	s, ok := str(a[0])
	if !ok {
		return nil, nil
	}
	p, _ := str(at(a, 1))
	f, err := analyseIntegerPicture(p)
	if err != nil {
		return nil, err
	}
	m, err := integerMatcher(f)
	if err != nil {
		return nil, err
	}
	v := m.parse(s)
	if math.IsNaN(v) {
		return nil, nil
	}
	return v, nil
}

type matcherPart struct {
	regex     string
	parse     func(string) float64
	component byte
}

func integerMatcher(f *intFormat) (*matcherPart, error) {
	m := &matcherPart{}
	upper := f.tcase == "upper"
	occ := "+"
	if f.n > 0 {
		occ = "{" + strconv.Itoa(f.n) + "}"
	}
	switch f.primary {
	case "letters":
		a := 'a'
		m.regex = "[a-z]+"
		if upper {
			a = 'A'
			m.regex = "[A-Z]+"
		}
		m.parse = func(v string) float64 { return lettersToDecimal(v, a) }
	case "roman":
		m.regex = "[mdclxvi]+"
		if upper {
			m.regex = "[MDCLXVI]+"
		}
		m.parse = func(v string) float64 { return romanToDecimal(strings.ToUpper(v)) }
	case "words":
		m.regex = "(?:" + strings.Join(append(append([]string{}, wordKeys...), "and", `[\-, ]`), "|") + ")+"
		m.parse = func(v string) float64 { return wordsToNumber(strings.ToLower(v)) }
	case "decimal":
		m.regex = "[0-9]" + occ
		if f.ordinal {
			m.regex += "(?:th|st|nd|rd)"
		}
		m.parse = func(v string) float64 {
			d := v
			if f.ordinal {
				d = d[:len(d)-2]
			}
			if f.regular {
				d = strings.ReplaceAll(d, ",", "")
			} else {
				for _, s := range f.separators {
					d = strings.ReplaceAll(d, s.character, "")
				}
			}
			if f.zeroCode != 0x30 {
				rs := []rune(d)
				for i, r := range rs {
					rs[i] = r - f.zeroCode + 0x30
				}
				d = string(rs)
			}
			return jsParseInt(d)
		}
	case "sequence":
		return nil, &Error{Code: "D3130", Value: f.token, Position: -1}
	}
	return m, nil
}

// jsParseInt mimics parseInt(s, 10): leading integer prefix, NaN if none.
func jsParseInt(s string) float64 {
	s = strings.TrimSpace(s)
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == i {
		return math.NaN()
	}
	f, _ := strconv.ParseFloat(s[:j], 64)
	return f
}

type dtPart struct {
	literal       bool
	value         string
	component     byte
	hasWidth      bool
	minW, maxW    int // -1 when not given
	presentation1 string
	presentation2 string
	ordinal       bool
	names         string
	intFmt        *intFormat
	n             int
}

var defaultPresentation = map[byte]string{'Y': "1", 'M': "1", 'D': "1", 'd': "1", 'F': "n", 'W': "1", 'w': "1", 'X': "1", 'x': "1", 'H': "1", 'h': "1", 'P': "n", 'm': "01", 's': "01", 'f': "1", 'Z': "01:01", 'z': "01:01", 'C': "n", 'E': "n"}

var wsSplit = regexp.MustCompile(`\s+`)

func analyseDateTimePicture(picture string) ([]*dtPart, error) {
	var spec []*dtPart
	addLiteral := func(s, e int) {
		if e > s {
			lit := strings.ReplaceAll(picture[s:e], "]]", "]")
			spec = append(spec, &dtPart{literal: true, value: lit})
		}
	}
	start, pos := 0, 0
	for pos < len(picture) {
		if picture[pos] == '[' {
			if pos+1 < len(picture) && picture[pos+1] == '[' {
				addLiteral(start, pos)
				spec = append(spec, &dtPart{literal: true, value: "["})
				pos += 2
				start = pos
				continue
			}
			addLiteral(start, pos)
			start = pos
			end := strings.Index(picture[start:], "]")
			if end == -1 {
				return nil, &Error{Code: "D3135", Position: -1}
			}
			pos = start + end
			marker := wsSplit.ReplaceAllString(picture[start+1:pos], "")
			d := &dtPart{minW: -1, maxW: -1}
			if len(marker) > 0 {
				d.component = marker[0]
			}
			var pres string
			if comma := strings.LastIndex(marker, ","); comma != -1 {
				wm := marker[comma+1:]
				parseW := func(s string) int {
					if s == "" || s == "*" {
						return -1
					}
					v := jsParseInt(s)
					if math.IsNaN(v) {
						return -1
					}
					return int(v)
				}
				d.hasWidth = true
				if dash := strings.Index(wm, "-"); dash == -1 {
					d.minW = parseW(wm)
				} else {
					d.minW = parseW(wm[:dash])
					d.maxW = parseW(wm[dash+1:])
				}
				if comma >= 1 {
					pres = marker[1:comma]
				} else if len(marker) > 0 {
					pres = marker[:1] // JavaScript substring(1, 0) swaps its arguments
				}
			} else if len(marker) > 0 {
				pres = marker[1:]
			}
			if len([]rune(pres)) == 1 {
				d.presentation1 = pres
			} else if len(pres) > 1 {
				last := pres[len(pres)-1]
				if strings.IndexByte("atco", last) != -1 {
					d.presentation2 = string(last)
					if last == 'o' {
						d.ordinal = true
					}
					d.presentation1 = pres[:len(pres)-1]
				} else {
					d.presentation1 = pres
				}
			} else {
				p, ok := defaultPresentation[d.component]
				if !ok {
					return nil, &Error{Code: "D3132", Value: string(d.component), Position: -1}
				}
				d.presentation1 = p
			}
			if d.presentation1 != "" && d.presentation1[0] == 'n' {
				d.names = "lower"
			} else if d.presentation1 != "" && d.presentation1[0] == 'N' {
				if len(d.presentation1) > 1 && d.presentation1[1] == 'n' {
					d.names = "title"
				} else {
					d.names = "upper"
				}
			} else if strings.IndexByte("YMDdFWwXxHhmsf", d.component) != -1 {
				ip := d.presentation1
				if d.presentation2 != "" {
					ip += ";" + d.presentation2
				}
				f, err := analyseIntegerPicture(ip)
				if err != nil {
					return nil, err
				}
				d.intFmt = f
				if d.hasWidth && d.minW >= 0 && f.mandatoryDigits < d.minW {
					f.mandatoryDigits = d.minW
				}
				if d.component == 'Y' {
					d.n = -1
					if d.hasWidth && d.maxW >= 0 {
						d.n = d.maxW
						f.mandatoryDigits = d.n
					} else if w := f.mandatoryDigits + f.optionalDigits; w >= 2 {
						d.n = w
					}
				}
			}
			if d.component == 'Z' || d.component == 'z' {
				f, err := analyseIntegerPicture(d.presentation1)
				if err != nil {
					return nil, err
				}
				d.intFmt = f
			}
			spec = append(spec, d)
			start = pos + 1
		}
		pos++
	}
	addLiteral(start, pos)
	return spec, nil
}

var dayNames = []string{"", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
var monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

const millisInDay = 86400000.0

func dateUTC(y, m int) float64 {
	return float64(time.Date(y, time.Month(m+1), 1, 0, 0, 0, 0, time.UTC).UnixMilli())
}

func startOfFirstWeek(y, m int) float64 {
	jan1 := dateUTC(y, m)
	dow := int(time.UnixMilli(int64(jan1)).UTC().Weekday())
	if dow == 0 {
		dow = 7
	}
	if dow > 4 {
		return jan1 + float64(8-dow)*millisInDay
	}
	return jan1 - float64(dow-1)*millisInDay
}

func nextMonth(y, m int) (int, int) {
	if m == 11 {
		return y + 1, 0
	}
	return y, m + 1
}

func prevMonth(y, m int) (int, int) {
	if m == 0 {
		return y - 1, 11
	}
	return y, m - 1
}

func deltaWeeks(start, end float64) float64 { return (end-start)/(millisInDay*7) + 1 }

func dayStart(y, m, d int) float64 {
	return float64(time.Date(y, time.Month(m+1), d, 0, 0, 0, 0, time.UTC).UnixMilli())
}

func dateFragment(t time.Time, c byte) any {
	switch c {
	case 'Y':
		return float64(t.Year())
	case 'M':
		return float64(t.Month())
	case 'D':
		return float64(t.Day())
	case 'd':
		return float64(t.YearDay())
	case 'F':
		d := int(t.Weekday())
		if d == 0 {
			d = 7
		}
		return float64(d)
	case 'W':
		y := t.Year()
		sw := startOfFirstWeek(y, 0)
		today := dayStart(y, int(t.Month())-1, t.Day())
		week := deltaWeeks(sw, today)
		if week > 52 {
			if today >= startOfFirstWeek(y+1, 0) {
				week = 1
			}
		} else if week < 1 {
			week = deltaWeeks(startOfFirstWeek(y-1, 0), today)
		}
		return math.Floor(week)
	case 'w':
		y, m := t.Year(), int(t.Month())-1
		sw := startOfFirstWeek(y, m)
		today := dayStart(y, m, t.Day())
		week := deltaWeeks(sw, today)
		if week > 4 {
			ny, nm := nextMonth(y, m)
			if today >= startOfFirstWeek(ny, nm) {
				week = 1
			}
		} else if week < 1 {
			py, pm := prevMonth(y, m)
			week = deltaWeeks(startOfFirstWeek(py, pm), today)
		}
		return math.Floor(week)
	case 'X':
		y := t.Year()
		now := float64(t.UnixMilli())
		if now < startOfFirstWeek(y, 0) {
			return float64(y - 1)
		} else if now >= startOfFirstWeek(y+1, 0) {
			return float64(y + 1)
		}
		return float64(y)
	case 'x':
		y, m := t.Year(), int(t.Month())-1
		now := float64(t.UnixMilli())
		ny, nm := nextMonth(y, m)
		if now < startOfFirstWeek(y, m) {
			_, pm := prevMonth(y, m)
			return float64(pm + 1)
		} else if now >= startOfFirstWeek(ny, nm) {
			return float64(nm + 1)
		}
		return float64(m + 1)
	case 'H':
		return float64(t.Hour())
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return float64(h)
	case 'P':
		if t.Hour() >= 12 {
			return "pm"
		}
		return "am"
	case 'm':
		return float64(t.Minute())
	case 's':
		return float64(t.Second())
	case 'f':
		return float64(t.Nanosecond() / 1e6)
	case 'C', 'E':
		return "ISO"
	}
	return nil
}

var isoSpec []*dtPart

func init() {
	isoSpec, _ = analyseDateTimePicture("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]")
}

func formatDateTime(ms float64, picture, tz any) (any, error) {
	offH, offM := 0, 0
	if tzs, ok := tz.(string); ok {
		off := jsParseInt(tzs)
		if !math.IsNaN(off) {
			offH = int(math.Floor(off / 100))
			offM = int(math.Mod(off, 100))
		}
	}
	spec := isoSpec
	if p, ok := picture.(string); ok {
		var err error
		spec, err = analyseDateTimePicture(p)
		if err != nil {
			return nil, err
		}
	}
	offMillis := float64((60*offH + offM) * 60 * 1000)
	t := time.UnixMilli(int64(math.Floor(ms + offMillis))).UTC()
	var sb strings.Builder
	for _, part := range spec {
		if part.literal {
			sb.WriteString(part.value)
			continue
		}
		s, err := formatComponent(t, part, offH, offM)
		if err != nil {
			return nil, err
		}
		sb.WriteString(s)
	}
	return sb.String(), nil
}

func formatComponent(t time.Time, p *dtPart, offH, offM int) (string, error) {
	cv := dateFragment(t, p.component)
	c := p.component
	if strings.IndexByte("YMDdFWwXxHhms", c) != -1 {
		v, _ := cv.(float64)
		if c == 'Y' && p.n != -1 {
			v = math.Mod(v, math.Pow(10, float64(p.n)))
		}
		if p.names != "" {
			var name string
			if c == 'M' || c == 'x' {
				name = monthNames[int(v)-1]
			} else if c == 'F' {
				name = dayNames[int(v)]
			} else {
				return "", &Error{Code: "D3133", Value: string(c), Position: -1}
			}
			if p.names == "upper" {
				name = strings.ToUpper(name)
			} else if p.names == "lower" {
				name = strings.ToLower(name)
			}
			if p.hasWidth && p.maxW >= 0 && len(name) > p.maxW {
				name = name[:p.maxW]
			}
			return name, nil
		}
		return formatIntegerWith(v, p.intFmt)
	}
	switch c {
	case 'f':
		v, _ := cv.(float64)
		return formatIntegerWith(v, p.intFmt)
	case 'Z', 'z':
		offset := offH*100 + offM
		var s string
		var err error
		if p.intFmt.regular {
			s, err = formatIntegerWith(float64(offset), p.intFmt)
		} else {
			nd := p.intFmt.mandatoryDigits
			if nd == 1 || nd == 2 {
				s, err = formatIntegerWith(float64(offH), p.intFmt)
				if offM != 0 {
					f2, _ := analyseIntegerPicture("00")
					m, _ := formatIntegerWith(float64(offM), f2)
					s += ":" + m
				}
			} else if nd == 3 || nd == 4 {
				s, err = formatIntegerWith(float64(offset), p.intFmt)
			} else {
				return "", &Error{Code: "D3134", Value: float64(nd), Position: -1}
			}
		}
		if err != nil {
			return "", err
		}
		if offset >= 0 {
			s = "+" + s
		}
		if c == 'z' {
			s = "GMT" + s
		}
		if offset == 0 && p.presentation2 == "t" {
			s = "Z"
		}
		return s, nil
	}
	if s, ok := cv.(string); ok {
		if c == 'P' {
			if p.names == "upper" {
				return strings.ToUpper(s), nil
			}
			if p.names == "lower" {
				return strings.ToLower(s), nil
			}
		}
		return s, nil
	}
	if cv == nil {
		return "", nil
	}
	return formatJSNumber(cv.(float64)), nil
}

func parseDateTime(ts, picture string, now time.Time) (any, error) {
	spec, err := analyseDateTimePicture(picture)
	if err != nil {
		return nil, err
	}
	var parts []*matcherPart
	for _, p := range spec {
		mp := &matcherPart{}
		switch {
		case p.literal:
			mp.regex = regexp.QuoteMeta(p.value)
		case p.component == 'Z' || p.component == 'z':
			var sep *sepDef
			if p.intFmt.regular {
				sep = &p.intFmt.regularSep
			}
			if p.component == 'z' {
				mp.regex = "GMT"
			}
			mp.regex += "[-+][0-9]+"
			if sep != nil {
				mp.regex += regexp.QuoteMeta(sep.character) + "[0-9]+"
			}
			comp := p.component
			mp.parse = func(v string) float64 {
				if comp == 'z' {
					v = v[3:]
				}
				h, m := 0.0, 0.0
				if sep != nil {
					i := strings.Index(v, sep.character)
					h = jsParseInt(v[:i])
					m = jsParseInt(v[i+1:])
				} else if len(v)-1 <= 2 {
					h = jsParseInt(v)
				} else {
					h = jsParseInt(v[:3])
					m = jsParseInt(v[3:])
				}
				return h*60 + m
			}
		case p.intFmt != nil:
			p.intFmt.n = p.n
			if p.component != 'Y' && p.intFmt.primary == "decimal" && p.intFmt.mandatoryDigits >= 2 && len(p.intFmt.separators) == 0 && !p.intFmt.regular {
				p.intFmt.n = p.intFmt.mandatoryDigits
			}
			m, err := integerMatcher(p.intFmt)
			if err != nil {
				return nil, err
			}
			mp = m
		default:
			mp.regex = "[a-zA-Z]+"
			lookup := map[string]float64{}
			switch p.component {
			case 'M', 'x':
				for i, n := range monthNames {
					if p.hasWidth && p.maxW > 0 && len(n) > p.maxW {
						n = n[:p.maxW]
					}
					lookup[n] = float64(i + 1)
				}
			case 'F':
				for i, n := range dayNames {
					if i == 0 {
						continue
					}
					if p.hasWidth && p.maxW > 0 && len(n) > p.maxW {
						n = n[:p.maxW]
					}
					lookup[n] = float64(i)
				}
			case 'P':
				lookup = map[string]float64{"am": 0, "AM": 0, "pm": 1, "PM": 1}
			default:
				return nil, &Error{Code: "D3133", Value: string(p.component), Position: -1}
			}
			mp.parse = func(v string) float64 {
				if x, ok := lookup[v]; ok {
					return x
				}
				return math.NaN()
			}
		}
		mp.component = p.component
		parts = append(parts, mp)
	}
	var rb strings.Builder
	rb.WriteString("(?i)^")
	for _, p := range parts {
		rb.WriteString("(" + p.regex + ")")
	}
	rb.WriteString("$")
	re, err := regexp.Compile(rb.String())
	if err != nil {
		return nil, &Error{Code: "D3136", Position: -1}
	}
	info := re.FindStringSubmatch(ts)
	if info == nil {
		return nil, nil
	}
	comps := map[byte]float64{}
	for i := 1; i < len(info); i++ {
		mp := parts[i-1]
		if mp.parse != nil {
			if v := mp.parse(info[i]); !math.IsNaN(v) {
				comps[mp.component] = v
			}
		}
	}
	if len(comps) == 0 {
		return nil, nil
	}
	mask := 0
	shift := func(c byte) {
		mask <<= 1
		if v, ok := comps[c]; ok && v != 0 && !math.IsNaN(v) {
			mask++
		}
	}
	isType := func(t int) bool { return (^t&mask) == 0 && (t&mask) != 0 }
	for _, c := range []byte("YXMxWwdD") {
		shift(c)
	}
	dateA := isType(161)
	dateB := !dateA && isType(130)
	dateC := isType(84)
	dateD := !dateC && isType(72)
	mask = 0
	for _, c := range []byte("PHhmsf") {
		shift(c)
	}
	timeA := isType(23)
	timeB := !timeA && isType(47)
	dateComps := "YMD"
	if dateB {
		dateComps = "YD"
	} else if dateC {
		dateComps = "XxwF"
	} else if dateD {
		dateComps = "XWF"
	}
	timeComps := "Hmsf"
	if timeB {
		timeComps = "Phmsf"
	}
	nowT := now.UTC()
	startSpecified, endSpecified := false, false
	for _, c := range []byte(dateComps + timeComps) {
		if _, ok := comps[c]; !ok {
			if startSpecified {
				if strings.IndexByte("MDd", c) != -1 {
					comps[c] = 1
				} else {
					comps[c] = 0
				}
				endSpecified = true
			} else {
				v, _ := dateFragment(nowT, c).(float64)
				comps[c] = v
			}
		} else {
			startSpecified = true
			if endSpecified {
				return nil, &Error{Code: "D3136", Position: -1}
			}
		}
	}
	if comps['M'] > 0 {
		comps['M']--
	} else {
		comps['M'] = 0
	}
	if dateB {
		first := dateUTC(int(comps['Y']), 0)
		d := time.UnixMilli(int64(first + (comps['d']-1)*millisInDay)).UTC()
		comps['M'] = float64(d.Month() - 1)
		comps['D'] = float64(d.Day())
	}
	if dateC || dateD {
		return nil, &Error{Code: "D3136", Position: -1}
	}
	if timeB {
		if comps['h'] == 12 {
			comps['H'] = 0
		} else {
			comps['H'] = comps['h']
		}
		if comps['P'] == 1 {
			comps['H'] += 12
		}
	}
	for _, c := range []byte("YMDHmsf") {
		if math.IsNaN(comps[c]) {
			return nil, nil
		}
	}
	t := time.Date(int(comps['Y']), time.Month(int(comps['M'])+1), int(comps['D']), int(comps['H']), int(comps['m']), int(comps['s']), int(comps['f'])*1e6, time.UTC)
	ms := float64(t.UnixMilli())
	if z, ok := comps['Z']; ok && z != 0 {
		ms -= z * 60 * 1000
	} else if z, ok := comps['z']; ok && z != 0 {
		ms -= z * 60 * 1000
	}
	return ms, nil
}

var iso8601Re = regexp.MustCompile(`^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$`)

func parseISO(s string) (any, error) {
	if !iso8601Re.MatchString(s) {
		return nil, errV("D3110", s)
	}
	// Date.parse semantics: date-only forms are UTC; date-time forms without offset are local time
	// (we treat them as UTC, the usual server setting).
	layouts := []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999", "2006-01-02", "2006-01", "2006"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return float64(t.UnixMilli()), nil
		}
	}
	return nil, nil
}
