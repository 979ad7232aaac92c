package jsonata

import (
	"math"
	"strconv"
	"strings"
)

// Port of jsonata-js formatNumber (XPath F&O 3.1 fn:format-number).

type numPicParts struct {
	prefix, suffix, active, mantissa, integer, fractional string
	exponent                                              *string
	sub                                                   string
}

type numPicVars struct {
	intGroupPositions  []int
	regularGrouping    int
	minIntSize         int
	scalingFactor      int
	prefix, suffix     string
	fracGroupPositions []int
	minFracSize        int
	maxFracSize        int
	minExpSize         int
	picture            string
}

func runeIndex(s, sub string) int {
	i := strings.Index(s, sub)
	if i < 0 {
		return -1
	}
	return len([]rune(s[:i]))
}

func runeLastIndex(s, sub string) int {
	i := strings.LastIndex(s, sub)
	if i < 0 {
		return -1
	}
	return len([]rune(s[:i]))
}

func fnFormatNumber(ev *evaluator, _ any, _ *env, a []any) (any, error) {
	value, ok := num(a[0])
	if !ok {
		return nil, nil
	}
	picture, _ := str(at(a, 1))
	props := map[string]string{
		"decimal-separator": ".", "grouping-separator": ",", "exponent-separator": "e", "infinity": "Infinity",
		"minus-sign": "-", "NaN": "NaN", "percent": "%", "per-mille": "\u2030", "zero-digit": "0", "digit": "#",
		"pattern-separator": ";",
	}
	if o, ok := at(a, 2).(*Object); ok {
		for _, k := range o.Keys() {
			if s, ok := o.get(k).(string); ok {
				props[k] = s
			}
		}
	}
	zeroRune := []rune(props["zero-digit"])[0]
	var family []string
	for i := 0; i < 10; i++ {
		family = append(family, string(zeroRune+rune(i)))
	}
	inFamily := func(c string) bool {
		for _, f := range family {
			if f == c {
				return true
			}
		}
		return false
	}
	decSep, grpSep, expSep, digit, patSep := props["decimal-separator"], props["grouping-separator"], props["exponent-separator"], props["digit"], props["pattern-separator"]
	percent, permille := props["percent"], props["per-mille"]
	isActive := func(c string) bool {
		return inFamily(c) || c == decSep || c == expSep || c == grpSep || c == digit || c == patSep
	}
	subPictures := strings.Split(picture, patSep)
	if len(subPictures) > 2 {
		return nil, &Error{Code: "D3080", Position: -1}
	}
	split := func(sub string) numPicParts {
		rs := []rune(sub)
		prefix := ""
		for i := 0; i < len(rs); i++ {
			c := string(rs[i])
			if isActive(c) && c != expSep {
				prefix = string(rs[:i])
				break
			}
		}
		suffix := ""
		for i := len(rs) - 1; i >= 0; i-- {
			c := string(rs[i])
			if isActive(c) && c != expSep {
				suffix = string(rs[i+1:])
				break
			}
		}
		pl, sl := len([]rune(prefix)), len([]rune(suffix))
		active := ""
		if len(rs)-sl >= pl {
			active = string(rs[pl : len(rs)-sl])
		}
		var mantissa string
		var exponent *string
		expPos := -1
		if i := strings.Index(string(rs[min(pl, len(rs)):]), expSep); i >= 0 && expSep != "" {
			expPos = pl + len([]rune(string(rs[pl:])[:i]))
		}
		if expPos == -1 || expPos > len(rs)-sl {
			mantissa = active
		} else {
			ar := []rune(active)
			mantissa = string(ar[:min(expPos, len(ar))])
			e := ""
			if expPos+1 <= len(ar) {
				e = string(ar[expPos+1:])
			}
			exponent = &e
		}
		var integer, fractional string
		if dp := runeIndex(mantissa, decSep); dp == -1 {
			integer = mantissa
			fractional = suffix
		} else {
			mr := []rune(mantissa)
			integer = string(mr[:dp])
			fractional = string(mr[dp+1:])
		}
		return numPicParts{prefix: prefix, suffix: suffix, active: active, mantissa: mantissa, exponent: exponent, integer: integer, fractional: fractional, sub: sub}
	}
	validate := func(p numPicParts) error {
		code := ""
		sub := p.sub
		decPos := runeIndex(sub, decSep)
		if decPos != runeLastIndex(sub, decSep) {
			code = "D3081"
		}
		if runeIndex(sub, percent) != runeLastIndex(sub, percent) {
			code = "D3082"
		}
		if runeIndex(sub, permille) != runeLastIndex(sub, permille) {
			code = "D3083"
		}
		if runeIndex(sub, percent) != -1 && runeIndex(sub, permille) != -1 {
			code = "D3084"
		}
		valid := false
		for _, r := range p.mantissa {
			if inFamily(string(r)) || string(r) == digit {
				valid = true
				break
			}
		}
		if !valid {
			code = "D3085"
		}
		for _, r := range p.active {
			if !isActive(string(r)) {
				code = "D3086"
			}
		}
		sr := []rune(sub)
		if decPos != -1 {
			if (decPos > 0 && string(sr[decPos-1]) == grpSep) || (decPos+1 < len(sr) && string(sr[decPos+1]) == grpSep) {
				code = "D3087"
			}
		} else if ir := []rune(p.integer); len(ir) > 0 && string(ir[len(ir)-1]) == grpSep {
			code = "D3088"
		}
		if strings.Contains(sub, grpSep+grpSep) {
			code = "D3089"
		}
		if odp := runeIndex(p.integer, digit); odp != -1 {
			for _, r := range []rune(p.integer)[:odp] {
				if inFamily(string(r)) {
					code = "D3090"
				}
			}
		}
		if odp := runeLastIndex(p.fractional, digit); odp != -1 {
			for _, r := range []rune(p.fractional)[odp:] {
				if inFamily(string(r)) {
					code = "D3091"
				}
			}
		}
		if p.exponent != nil && len(*p.exponent) > 0 && (strings.Contains(sub, percent) || strings.Contains(sub, permille)) {
			code = "D3092"
		}
		if p.exponent != nil {
			bad := len(*p.exponent) == 0
			for _, r := range *p.exponent {
				if !inFamily(string(r)) {
					bad = true
				}
			}
			if bad {
				code = "D3093"
			}
		}
		if code != "" {
			return &Error{Code: code, Position: -1}
		}
		return nil
	}
	countIf := func(s string, f func(string) bool) int {
		n := 0
		for _, r := range s {
			if f(string(r)) {
				n++
			}
		}
		return n
	}
	analyse := func(p numPicParts) *numPicVars {
		groupPositions := func(part string, toLeft bool) []int {
			var pos []int
			pr := []rune(part)
			gp := runeIndex(part, grpSep)
			for gp != -1 {
				var seg string
				if toLeft {
					seg = string(pr[:gp])
				} else {
					seg = string(pr[gp:])
				}
				pos = append(pos, countIf(seg, func(c string) bool { return inFamily(c) || c == digit }))
				// jsonata-js searches the integer part for the next separator
				ir := []rune(p.integer)
				next := -1
				if gp+1 <= len(ir) {
					if i := runeIndex(string(ir[gp+1:]), grpSep); i != -1 {
						next = gp + 1 + i
					}
				}
				gp = next
			}
			return pos
		}
		v := &numPicVars{prefix: p.prefix, suffix: p.suffix, picture: p.sub}
		v.intGroupPositions = groupPositions(p.integer, false)
		v.regularGrouping = regularInts(v.intGroupPositions)
		v.fracGroupPositions = groupPositions(p.fractional, true)
		v.minIntSize = countIf(p.integer, inFamily)
		v.scalingFactor = v.minIntSize
		v.minFracSize = countIf(p.fractional, inFamily)
		v.maxFracSize = countIf(p.fractional, func(c string) bool { return inFamily(c) || c == digit })
		expPresent := p.exponent != nil
		if v.minIntSize == 0 && v.maxFracSize == 0 {
			if expPresent {
				v.minFracSize = 1
				v.maxFracSize = 1
			} else {
				v.minIntSize = 1
			}
		}
		if expPresent && v.minIntSize == 0 && strings.Contains(p.integer, digit) {
			v.minIntSize = 1
		}
		if v.minIntSize == 0 && v.minFracSize == 0 {
			v.minFracSize = 1
		}
		if expPresent {
			v.minExpSize = countIf(*p.exponent, inFamily)
		}
		return v
	}
	var vars []*numPicVars
	for _, sp := range subPictures {
		p := split(sp)
		if err := validate(p); err != nil {
			return nil, err
		}
		vars = append(vars, analyse(p))
	}
	minus := props["minus-sign"]
	zero := props["zero-digit"]
	if len(vars) == 1 {
		c := *vars[0]
		c.prefix = minus + c.prefix
		vars = append(vars, &c)
	}
	pic := vars[0]
	if value < 0 {
		pic = vars[1]
	}
	adjusted := value
	if strings.Contains(pic.picture, percent) {
		adjusted = value * 100
	} else if strings.Contains(pic.picture, permille) {
		adjusted = value * 1000
	}
	var mantissa float64
	var exponent int
	hasExp := false
	if pic.minExpSize == 0 {
		mantissa = adjusted
	} else {
		hasExp = true
		maxM := math.Pow(10, float64(pic.scalingFactor))
		minM := math.Pow(10, float64(pic.scalingFactor-1))
		mantissa = math.Abs(adjusted)
		if mantissa != 0 && !math.IsInf(mantissa, 0) {
			for mantissa < minM {
				mantissa *= 10
				exponent--
			}
			for mantissa > maxM {
				mantissa /= 10
				exponent++
			}
		}
		if adjusted < 0 {
			mantissa = -mantissa
		}
	}
	rounded := roundHalfEven(mantissa, pic.maxFracSize)
	makeString := func(v float64, dp int) string {
		s := strconv.FormatFloat(math.Abs(v), 'f', dp, 64)
		if zero != "0" {
			var sb strings.Builder
			for _, r := range s {
				if r >= '0' && r <= '9' {
					sb.WriteString(family[r-'0'])
				} else {
					sb.WriteRune(r)
				}
			}
			s = sb.String()
		}
		return s
	}
	sv := makeString(rounded, pic.maxFracSize)
	if !strings.Contains(sv, ".") {
		sv += decSep
	} else {
		sv = strings.Replace(sv, ".", decSep, 1)
	}
	for strings.HasPrefix(sv, zero) {
		sv = sv[len(zero):]
	}
	for strings.HasSuffix(sv, zero) {
		sv = sv[:len(sv)-len(zero)]
	}
	r := []rune(sv)
	dp := runeIndex(sv, decSep)
	padLeft := pic.minIntSize - dp
	padRight := pic.minFracSize - (len(r) - dp - 1)
	if padLeft > 0 {
		sv = strings.Repeat(zero, padLeft) + sv
	}
	if padRight > 0 {
		sv = sv + strings.Repeat(zero, padRight)
	}
	insert := func(s string, at int, ins string) string {
		rs := []rune(s)
		if at < 0 {
			at = 0
		}
		if at > len(rs) {
			at = len(rs)
		}
		return string(rs[:at]) + ins + string(rs[at:])
	}
	dp = runeIndex(sv, decSep)
	if pic.regularGrouping > 0 {
		gc := (dp - 1) / pic.regularGrouping
		for g := 1; g <= gc; g++ {
			sv = insert(sv, dp-g*pic.regularGrouping, grpSep)
		}
	} else {
		for _, pos := range pic.intGroupPositions {
			sv = insert(sv, dp-pos, grpSep)
			dp++
		}
	}
	dp = runeIndex(sv, decSep)
	for _, pos := range pic.fracGroupPositions {
		sv = insert(sv, pos+dp+1, grpSep)
	}
	dp = runeIndex(sv, decSep)
	if !strings.Contains(pic.picture, decSep) || dp == len([]rune(sv))-1 {
		rs := []rune(sv)
		sv = string(rs[:len(rs)-1])
	}
	if hasExp {
		se := makeString(float64(exponent), 0)
		if pl := pic.minExpSize - len([]rune(se)); pl > 0 {
			se = strings.Repeat(zero, pl) + se
		}
		m := ""
		if exponent < 0 {
			m = minus
		}
		sv = sv + expSep + m + se
	}
	return pic.prefix + sv + pic.suffix, nil
}

func regularInts(idx []int) int {
	if len(idx) == 0 {
		return 0
	}
	gcd := func(a, b int) int {
		for b != 0 {
			a, b = b, a%b
		}
		return a
	}
	f := idx[0]
	for _, x := range idx[1:] {
		f = gcd(f, x)
	}
	for i := 1; i <= len(idx); i++ {
		found := false
		for _, x := range idx {
			if x == i*f {
				found = true
			}
		}
		if !found {
			return 0
		}
	}
	return f
}
