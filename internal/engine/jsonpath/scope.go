package jsonpath

// Scope is what a path is evaluated against: the state's input ("$..."),
// the context object ("$$..."), and the workflow variables in scope
// ("$name...").
type Scope struct {
	// Input is the document that "$" denotes.
	Input any
	// Context is the context object that "$$" denotes.
	Context any
	// Vars resolves variable references; nil means no variables are in scope.
	Vars Vars
}

// Vars looks up workflow variables by name.
type Vars interface {
	Lookup(name string) (any, bool)
}
