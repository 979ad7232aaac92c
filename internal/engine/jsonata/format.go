package jsonata

func fnFormatNumber(ev *evaluator, _ any, _ *env, a []any) (any, error) { return nil, nil }
