package jsonata

func formatDateTime(ms float64, picture, tz any) (any, error) { return nil, nil }
func parseDateTime(s, picture string) (any, error)            { return nil, nil }
func parseISO(s string) (any, error)                           { return nil, nil }
