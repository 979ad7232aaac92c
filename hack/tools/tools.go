//go:build tools

// Package tools pins the code generators the Makefile builds into bin/. It is a module of
// its own so that the generators' dependencies stay out of the root go.mod.
package tools

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
