package jsonpath

// NoMatchError says that a definite path selected nothing. It satisfies
// errors.Is(err, ErrNoMatch).
type NoMatchError struct {
	// Path is the path's source text.
	Path string
	// At is the normalized prefix of the path where the walk failed, for
	// example $['a']['b'].
	At string
	// Detail is Jayway JsonPath's own wording, for example
	// "No results for path: $['a']".
	Detail string
}

// Error reads as AWS's message for a failed InputPath or OutputPath:
// Invalid path '$.a' : No results for path: $['a'].
func (e *NoMatchError) Error() string { return "Invalid path '" + e.Path + "' : " + e.Detail }

// Is makes errors.Is(err, ErrNoMatch) true.
func (e *NoMatchError) Is(target error) bool { return target == ErrNoMatch }

// UndefinedVariableError says that a "$name" path refers to a variable that
// is not in scope. It satisfies errors.Is(err, ErrNoMatch).
type UndefinedVariableError struct {
	Name string
	Path string
}

func (e *UndefinedVariableError) Error() string {
	return "Invalid path '" + e.Path + "' : the variable '" + e.Name + "' is not defined"
}

// Is makes errors.Is(err, ErrNoMatch) true.
func (e *UndefinedVariableError) Is(target error) bool { return target == ErrNoMatch }

// SetError says that a reference path cannot be applied to a document, for
// example because it goes through a value that is not an object.
type SetError struct {
	Path string
	Msg  string
}

func (e *SetError) Error() string { return "cannot apply reference path '" + e.Path + "': " + e.Msg }
