package cli

import (
	"fmt"

	"github.com/kstates/kstates/internal/engine/value"
)

// parseJSON is value.Parse that turns a panic of the underlying parser into
// an error: some malformed documents make it panic (for example
// {"000000000": {"00":}, "": "0"  with ojg v1.28.5), and bad input must never
// crash the CLI.
func parseJSON(data []byte) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("invalid JSON (the parser failed: %v)", r)
		}
	}()
	return value.Parse(data)
}
