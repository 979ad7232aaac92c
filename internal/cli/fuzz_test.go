package cli

import (
	"context"
	"os"
	"testing"

	"github.com/kstates/kstates/internal/engine"
)

// FuzzParseMocks: any mock file either parses or gets an error; a parsed one
// answers any state without panicking.
func FuzzParseMocks(f *testing.F) {
	for _, name := range []string{"mocks.json", "mocks-declined.json", "MockConfigFile.json"} {
		if data, err := os.ReadFile("../../examples/order/" + name); err == nil {
			f.Add(data, "")
			f.Add(data, "HappyPath")
		}
	}
	f.Add([]byte(sfnLocal), "Happy")
	f.Add([]byte("A:\n  - Return: 1\n    Delay: 2\n"), "")
	f.Add([]byte(`{"A": [{"Throw": {"Error": "E", "Cause": "c"}, "Delay": 1e308}]}`), "")
	f.Fuzz(func(t *testing.T, data []byte, testCase string) {
		m, err := ParseMocks(data, "f.json", MockSelection{TestCase: testCase}, nil)
		if err != nil {
			return
		}
		for _, state := range []string{"A", "Lambda", "CheckInventory", ""} {
			for i := 0; i < 3; i++ {
				out, _, err := m.answer(&engine.TaskRequest{StateName: state})
				if err == nil {
					_ = out
				}
			}
		}
		m.RunTask(context.Background(), &engine.TaskRequest{StateName: "A"})
	})
}

// FuzzParseContext: any --context value parses or gets an error.
func FuzzParseContext(f *testing.F) {
	f.Add(`{"Execution": {"Id": "arn:x", "Name": "n", "RoleArn": "r", "StartTime": "2024-01-01T00:00:00Z"}, "StateMachine": {"Id": "i", "Name": "n"}}`)
	f.Add(`{"Execution": {"StartTime": "2024-13-01T00:00:00Z"}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, s string) {
		parseContext(s)
	})
}
