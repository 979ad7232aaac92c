// Command kstates runs and checks Amazon States Language workflows. Installed
// as kubectl-states it is also a kubectl plugin ("kubectl states ...").
package main

import (
	"os"

	"github.com/kstates/kstates/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
