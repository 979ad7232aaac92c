package jsonpath

import "errors"

// ErrNoMatch is returned (wrapped) when a path selects nothing.
var ErrNoMatch = errors.New("path matched nothing")
