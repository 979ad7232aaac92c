package jsonpath

// CONTRACT STUB (to be replaced by the implementation; signatures are fixed).

// Path is a compiled ASL path: a JSONPath query over the input ("$..."), the
// context object ("$$...") or a variable ("$name...").
type Path struct{ src string }

// Compile parses an ASL path (InputPath, OutputPath, ItemsPath, a ".$" value,
// a Choice Variable, ...). The error names the offending part.
func Compile(src string) (*Path, error) { return &Path{src: src}, nil }

// String returns the source text.
func (p *Path) String() string { return p.src }

// Get evaluates the path. A definite path (no wildcards, filters, slices or
// unions) yields the single value it denotes; an indefinite one yields a
// []any of all matches. A path that matches nothing returns an error
// satisfying errors.Is(err, ErrNoMatch).
func (p *Path) Get(s *Scope) (any, error) { return nil, ErrNoMatch }

// Reference is a compiled reference path (ResultPath): definite, over "$" only.
type Reference struct{ src string }

// CompileReference parses a reference path.
func CompileReference(src string) (*Reference, error) { return &Reference{src: src}, nil }

// String returns the source text.
func (r *Reference) String() string { return r.src }

// Set returns doc with value placed at the reference, creating intermediate
// objects as needed. doc is not modified (copy on write). An error means the
// path cannot be set in doc (for example it goes through a non-object).
func (r *Reference) Set(doc, value any) (any, error) { return value, nil }
