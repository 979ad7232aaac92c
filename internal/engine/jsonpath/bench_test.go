package jsonpath

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kstates/kstates/internal/engine/value"
)

func items(n int) any {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"n%d"}`, i, i)
	}
	b.WriteString(`]}`)
	v, _ := value.ParseString(b.String())
	return v
}

func BenchmarkGetWildcard2000(b *testing.B) {
	s := &Scope{Input: items(2000)}
	p := MustCompile("$.items[*].id")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetFilter2000(b *testing.B) {
	s := &Scope{Input: items(2000)}
	p := MustCompile("$.items[?(@.id > 1000)].name")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Get(s); err != nil {
			b.Fatal(err)
		}
	}
}
