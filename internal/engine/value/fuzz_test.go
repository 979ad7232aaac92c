package value

import "testing"

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives Marshal and Parse again, with Size agreeing with Marshal.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5,"x\n",null,true]}`, `1e400`, `[[[[]]]]`, `"\u0001"`, `-0.0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Parse(data)
		if err != nil {
			return
		}
		out := Marshal(v)
		if Size(v) != len(out) {
			t.Fatalf("Size = %d, len(Marshal) = %d for %s", Size(v), len(out), out)
		}
		w, err := Parse(out)
		if err != nil {
			t.Fatalf("Marshal output %s does not parse: %v", out, err)
		}
		if !Equal(v, w) {
			t.Fatalf("round trip changed %s", out)
		}
	})
}
