package value

import (
	"fmt"
	"strings"
	"testing"
)

// doc50k builds a document of about 50 KB: 300 records with strings, numbers
// and nested arrays.
func doc50k(tb testing.TB) any {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; i < 300; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"name":"item number %d","price":%d.25,"tags":["red","green","blue\n"],"ok":true,"nested":{"x":null,"y":[1,2,3,4,5],"z":"some text here, and more text"}}`, i, i, i)
	}
	b.WriteString(`]}`)
	v, err := Parse([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestSizeMatchesMarshalOn50KB(t *testing.T) {
	v := doc50k(t)
	if Size(v) != len(Marshal(v)) {
		t.Fatalf("Size = %d, len(Marshal) = %d", Size(v), len(Marshal(v)))
	}
	if Size(v) < 48000 {
		t.Fatalf("the benchmark document is only %d bytes", Size(v))
	}
}

func BenchmarkSize50KB(b *testing.B) {
	v := doc50k(b)
	b.SetBytes(int64(Size(v)))
	b.ReportAllocs()
	for b.Loop() {
		Size(v)
	}
}

func BenchmarkMarshal50KB(b *testing.B) {
	v := doc50k(b)
	b.SetBytes(int64(Size(v)))
	b.ReportAllocs()
	for b.Loop() {
		Marshal(v)
	}
}

func BenchmarkParse50KB(b *testing.B) {
	data := Marshal(doc50k(b))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
