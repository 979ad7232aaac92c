package intrinsics

import (
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
)

// evalMathRandom returns a number in [start, end); non-integer arguments are
// rounded to the nearest integer, as AWS documents.
func evalMathRandom(c *Call, a []any, env *Env) (any, error) {
	start, end := javaRound(a[0]), javaRound(a[1])
	if end <= start {
		return nil, failf("%s: the end (%d) must be greater than the start (%d)", c.fn.name, end, start)
	}
	n := end - start
	if len(a) == 3 {
		if n > 1<<31-1 {
			return nil, failf("%s: the range from %d to %d is too large for a seeded generator", c.fn.name, start, end)
		}
		r := newJavaRandom(javaRound(a[2]))
		return start + int64(r.nextInt(int32(n))), nil
	}
	if env != nil && env.Int63n != nil {
		return start + env.Int63n(n), nil
	}
	return start + mrand.Int64N(n), nil
}

// javaRandom is java.util.Random's 48-bit linear congruential generator.
type javaRandom struct{ seed int64 }

const (
	javaMultiplier = 0x5DEECE66D
	javaMask       = (1 << 48) - 1
)

func newJavaRandom(seed int64) *javaRandom {
	return &javaRandom{seed: (seed ^ javaMultiplier) & javaMask}
}

func (r *javaRandom) next(bits uint) int32 {
	r.seed = (r.seed*javaMultiplier + 0xB) & javaMask
	return int32(uint64(r.seed) >> (48 - bits))
}

// nextInt is Random.nextInt(bound) for bound > 0.
func (r *javaRandom) nextInt(bound int32) int32 {
	if bound&(-bound) == bound {
		return int32((int64(bound) * int64(r.next(31))) >> 31)
	}
	for {
		bits := r.next(31)
		val := bits % bound
		if bits-val+(bound-1) >= 0 {
			return val
		}
	}
}

func evalUUID(_ *Call, _ []any, env *Env) (any, error) {
	if env != nil && env.UUID != nil {
		return env.UUID(), nil
	}
	return NewUUID(), nil
}

// NewUUID returns a random version 4 UUID.
func NewUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
