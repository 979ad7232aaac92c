package cli

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kstates/kstates/internal/engine"
	"github.com/kstates/kstates/internal/engine/value"
)

// contextFields lists the context-object fields --context may set, by object.
var contextFields = map[string][]string{
	"Execution":    {"Id", "Name", "RoleArn", "StartTime"},
	"StateMachine": {"Id", "Name"},
}

// parseContext maps a --context JSON object onto engine.ContextOverrides:
//
//	{"Execution": {"Id", "Name", "RoleArn", "StartTime"}, "StateMachine": {"Id", "Name"}}
//
// Every value is a string; StartTime is an RFC 3339 timestamp. Unknown
// fields are an error naming them.
func parseContext(s string) (engine.ContextOverrides, error) {
	var o engine.ContextOverrides
	v, err := parseJSON([]byte(s))
	if err != nil {
		return o, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		return o, fmt.Errorf("must be a JSON object, not %s", value.TypeName(v))
	}
	var unknown []string
	for _, objName := range sortedKeys(top) {
		allowed, ok := contextFields[objName]
		if !ok {
			unknown = append(unknown, objName)
			continue
		}
		obj, ok := top[objName].(map[string]any)
		if !ok {
			return o, fmt.Errorf("%s must be an object, not %s", objName, value.TypeName(top[objName]))
		}
		for _, field := range sortedKeys(obj) {
			if !contains(allowed, field) {
				unknown = append(unknown, objName+"."+field)
				continue
			}
			str, ok := obj[field].(string)
			if !ok {
				return o, fmt.Errorf("%s.%s must be a string, not %s", objName, field, value.TypeName(obj[field]))
			}
			switch objName + "." + field {
			case "Execution.Id":
				o.ExecutionID = str
			case "Execution.Name":
				o.ExecutionName = str
			case "Execution.RoleArn":
				o.RoleArn = str
			case "Execution.StartTime":
				t, err := time.Parse(time.RFC3339Nano, str)
				if err != nil {
					return o, fmt.Errorf("Execution.StartTime must be an RFC 3339 timestamp: %v", err)
				}
				o.StartTime = t
			case "StateMachine.Id":
				o.StateMachineID = str
			case "StateMachine.Name":
				o.StateMachineName = str
			}
		}
	}
	if len(unknown) > 0 {
		return o, fmt.Errorf("unknown field(s) %s (allowed: Execution.Id, Execution.Name, Execution.RoleArn, Execution.StartTime, StateMachine.Id, StateMachine.Name)", strings.Join(unknown, ", "))
	}
	return o, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
