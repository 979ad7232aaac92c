package conformance

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine"
)

// passFloor is the number of JSONPath-mode cases that passed when the floor
// was last raised; the test fails when fewer pass.
const passFloor = 346

// jsonataPassFloor is the same for the JSONata cases (feature "jsonata"),
// counted separately.
const jsonataPassFloor = 53

func TestConformance(t *testing.T) {
	dir := os.Getenv("KSTATES_CONFORMANCE_DIR")
	if dir == "" {
		t.Skip("KSTATES_CONFORMANCE_DIR is not set: skipping the AWS-recorded conformance cases")
	}
	cases, err := LoadCases(dir)
	if err != nil {
		t.Fatal(err)
	}
	verbose := os.Getenv("KSTATES_CONFORMANCE_VERBOSE") != ""
	type tally struct{ pass, total int }
	areas := map[string]*tally{}        // JSONPath-mode cases
	jsonataAreas := map[string]*tally{} // cases tagged "jsonata"
	var passed, failed, strict, histMatch, histTotal, evMatch, evTotal int
	var jPassed, jFailed, jStrict int
	for _, c := range cases {
		r, err := RunEngine(c)
		o := Verdict{Why: fmt.Sprint(err)}
		if err == nil {
			o = Judge(c, r)
		}
		if verbose {
			logMismatches(c, r, o)
		}
		isJSONata := c.HasFeature("jsonata")
		switch {
		case o.Pass && isJSONata:
			jPassed++
		case o.Pass:
			passed++
		case isJSONata:
			jFailed++
			t.Logf("FAIL (JSONata) %s: %s", c.Name, o.Why)
		default:
			failed++
			t.Logf("FAIL %s: %s", c.Name, o.Why)
		}
		if o.Pass && o.StrictCause {
			if isJSONata {
				jStrict++
			} else {
				strict++
			}
		}
		if o.HistoryCompared {
			histTotal++
			if o.HistoryMatch {
				histMatch++
			} else if verbose {
				t.Logf("HISTORY %s", c.Name)
			}
		}
		if o.EventsCompared {
			evTotal++
			if o.EventsMatch {
				evMatch++
			}
		}
		byArea := areas
		if isJSONata {
			byArea = jsonataAreas
		}
		for _, ft := range c.Features {
			a := byArea[ft]
			if a == nil {
				a = &tally{}
				byArea[ft] = a
			}
			a.total++
			if o.Pass {
				a.pass++
			}
		}
	}
	var b strings.Builder
	for _, set := range []struct {
		prefix string
		m      map[string]*tally
	}{{"area", areas}, {"jsonata area", jsonataAreas}} {
		names := make([]string, 0, len(set.m))
		for n := range set.m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s %s: %d/%d\n", set.prefix, n, set.m[n].pass, set.m[n].total)
		}
	}
	fmt.Fprintf(&b, "strict (cause matches too): %d of %d passing JSONPath cases, %d of %d passing JSONata cases\n", strict, passed, jStrict, jPassed)
	fmt.Fprintf(&b, "history types match: %d/%d\n", histMatch, histTotal)
	fmt.Fprintf(&b, "history events match (ids, links, details; ordered cases): %d/%d\n", evMatch, evTotal)
	fmt.Fprintf(&b, "conformance: %d passed, %d failed\n", passed, failed)
	fmt.Fprintf(&b, "conformance-jsonata: %d passed, %d failed\n", jPassed, jFailed)
	fmt.Print(b.String())
	if passed < passFloor {
		t.Errorf("conformance dropped: %d passed, below the floor of %d", passed, passFloor)
	}
	if jPassed < jsonataPassFloor {
		t.Errorf("JSONata conformance dropped: %d passed, below the floor of %d", jPassed, jsonataPassFloor)
	}
}

// logMismatches prints what differs beyond the verdict (KSTATES_CONFORMANCE_VERBOSE): the
// history types, the first differing event, and a cause that differs though the error matched.
func logMismatches(c *Case, r Result, o Verdict) {
	if o.HistoryCompared && !o.HistoryMatch {
		fmt.Printf("HISTORY %s\n  got  %v\n  want %v\n", c.Name, r.HistoryTypes, c.ExpectedHistoryTypes)
	}
	if o.EventsCompared && !o.EventsMatch {
		fmt.Printf("EVENT %s %s\n", c.Name, o.EventWhy)
	}
	if o.Pass && !o.StrictCause && r.Status == engine.StatusFailed {
		want := ""
		if c.Expected.Cause != nil {
			want = *c.Expected.Cause
		}
		fmt.Printf("CAUSE %s\n  got  %s\n  want %s\n", c.Name, NormaliseCause(r.Cause), want)
	}
}
