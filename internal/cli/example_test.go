package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const example = "../../examples/order/"

// runJSON runs the CLI with -o json and decodes its single output object.
func runJSON(t *testing.T, args ...string) (int, map[string]any) {
	t.Helper()
	code, stdout, stderr := runCLI("", append(args, "-o", "json")...)
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("exit %d, stdout is not one JSON object (%v):\n%s\nstderr:\n%s", code, err, stdout, stderr)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", stdout)
	}
	return code, doc
}

// events returns the "history" array of a run -o json --history document.
func events(t *testing.T, doc map[string]any) []map[string]any {
	t.Helper()
	raw, ok := doc["history"].([]any)
	if !ok || len(raw) == 0 {
		t.Fatalf("no history in %v", doc)
	}
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		ev, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("history[%d] is not an object: %v", i, e)
		}
		for _, k := range []string{"id", "previousEventId", "timestamp", "type"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("history[%d] lacks %q: %v", i, k, ev)
			}
		}
		out[i] = ev
	}
	return out
}

// details returns the event's "...EventDetails" object.
func details(ev map[string]any) map[string]any {
	for k, v := range ev {
		if strings.HasSuffix(k, "EventDetails") {
			d, _ := v.(map[string]any)
			return d
		}
	}
	return nil
}

// timestamp reads an event's timestamp: an RFC 3339 string, or epoch
// seconds as the AWS CLI prints them.
func timestamp(t *testing.T, ev map[string]any) time.Time {
	t.Helper()
	switch v := ev["timestamp"].(type) {
	case string:
		ts, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatalf("timestamp %q: %v", v, err)
		}
		return ts
	case float64:
		return time.Unix(0, int64(v*1e9))
	}
	t.Fatalf("timestamp %v is neither a string nor a number", ev["timestamp"])
	return time.Time{}
}

// entered lists the names of the states entered, in order.
func entered(evs []map[string]any) []string {
	var names []string
	for _, ev := range evs {
		if typ, _ := ev["type"].(string); strings.HasSuffix(typ, "StateEntered") {
			name, _ := details(ev)["name"].(string)
			names = append(names, name)
		}
	}
	return names
}

func TestTheOrderExampleSucceedsAfterARetriedInventoryCheck(t *testing.T) {
	began := time.Now()
	code, doc := runJSON(t, "run", example+"statemachine.yaml", "--input-file", example+"input.json",
		"--mocks", example+"mocks.json", "--clock", "virtual", "--history",
		"--context", `{"Execution": {"Name": "order-test-1"}}`)
	if code != ExitOK || doc["status"] != "SUCCEEDED" {
		t.Fatalf("exit %d, status %v, error %v, cause %v", code, doc["status"], doc["error"], doc["cause"])
	}
	if doc["error"] != nil || doc["cause"] != nil {
		t.Errorf("a successful run has error %v and cause %v, want null", doc["error"], doc["cause"])
	}
	want := map[string]any{
		"orderId": "ord-1001", "status": "CONFIRMED", "totalCents": 4997.0, "chargeId": "ch_1001",
		"reservationId": "res-7781", "confirmationMessageId": "msg-42", "execution": "order-test-1",
		"approvedBy": "auto (under 500.00)", // under 500.00: no person asked
	}
	out, _ := doc["output"].(map[string]any)
	for k, v := range want {
		if out[k] != v {
			t.Errorf("output.%s = %v, want %v (output %v)", k, out[k], v, out)
		}
	}
	if len(out) != len(want) {
		t.Errorf("output has %d fields, want %d: %v", len(out), len(want), out)
	}

	evs := events(t, doc)
	inventoryFailures, inventoryScheduled := 0, 0
	for _, ev := range evs {
		d := details(ev)
		switch ev["type"] {
		case "TaskFailed":
			if d["error"] == "InventoryUnavailable" {
				inventoryFailures++
			} else {
				t.Errorf("unexpected task failure: %v", d)
			}
		case "TaskScheduled":
			if r, _ := d["resource"].(string); strings.HasSuffix(r, "function:CheckInventory") {
				inventoryScheduled++
			}
		}
	}
	if inventoryFailures != 1 || inventoryScheduled != 2 {
		t.Errorf("CheckInventory failed %d and was scheduled %d times, want once and twice (the retry)", inventoryFailures, inventoryScheduled)
	}
	names := strings.Join(entered(evs), " ")
	for _, s := range []string{"ValidateOrder", "Checks", "CheckInventory", "CheckFraud", "IsFraudulent", "NeedsApproval", "AutoApprove", "ChargePayment", "WaitForDispatch", "SendConfirmation", "OrderConfirmed"} {
		if !strings.Contains(names, s) {
			t.Errorf("state %s was not entered (entered: %s)", s, names)
		}
	}
	if strings.Contains(names, "Refund") || strings.Contains(names, "RequestApproval") {
		t.Errorf("the happy path entered Refund: %s", names)
	}
	for i, ev := range evs {
		if id, _ := ev["id"].(float64); int(id) != i+1 {
			t.Errorf("event %d has id %v", i, ev["id"])
		}
	}
	if last := evs[len(evs)-1]["type"]; last != "ExecutionSucceeded" {
		t.Errorf("the last event is %v, want ExecutionSucceeded", last)
	}
	// The virtual clock: the hour-long Wait, the 2 s retry interval and the
	// 1.5 s mock delay all pass in the history, none in reality.
	span := timestamp(t, evs[len(evs)-1]).Sub(timestamp(t, evs[0]))
	if span < time.Hour+3500*time.Millisecond || span > time.Hour+time.Minute {
		t.Errorf("the history spans %v, want an hour and 3.5 s", span)
	}
	if took := time.Since(began); took > 30*time.Second {
		t.Errorf("the run took %v of real time", took)
	}
}

func TestTheOrderExampleFailsWhenPaymentIsDeclined(t *testing.T) {
	code, doc := runJSON(t, "run", example+"statemachine.yaml", "--input-file", example+"input.json",
		"--mocks", example+"mocks-declined.json", "--clock", "virtual", "--history")
	if code != ExitFailed || doc["status"] != "FAILED" || doc["error"] != "PaymentDeclined" ||
		doc["cause"] != "Card ending 4242 declined: insufficient funds" || doc["output"] != nil {
		t.Fatalf("exit %d, document %v; want exit 1, FAILED, PaymentDeclined with the card's cause", code, doc)
	}
	names := strings.Join(entered(events(t, doc)), " ")
	if !strings.Contains(names, "ChargePayment Refund NotifyCustomer PaymentFailed") {
		t.Errorf("states entered: %s; want ChargePayment, Refund, NotifyCustomer, PaymentFailed in a row", names)
	}
}

func TestTheOrderExampleWithStepFunctionsLocalMocks(t *testing.T) {
	for _, tc := range []struct {
		testCase, status, error string
	}{
		{"HappyPath", "SUCCEEDED", ""},
		{"Fraud", "FAILED", "OrderRejected"},
		{"PaymentDeclined", "FAILED", "PaymentDeclined"},
		{"Approved", "SUCCEEDED", ""},
		{"NotApproved", "FAILED", "OrderNotApproved"},
	} {
		_, doc := runJSON(t, "run", example+"statemachine.yaml", "--input-file", example+"input.json",
			"--mocks", example+"MockConfigFile.json", "--test-case", tc.testCase, "--clock", "virtual",
			"--context", `{"StateMachine": {"Name": "OrderProcessing"}}`)
		if doc["status"] != tc.status || (tc.error != "" && doc["error"] != tc.error) {
			t.Errorf("test case %s: %v %v (%v), want %s %s", tc.testCase, doc["status"], doc["error"], doc["cause"], tc.status, tc.error)
		}
		if out, _ := doc["output"].(map[string]any); tc.testCase == "Approved" && out["approvedBy"] != "grace" {
			t.Errorf("test case Approved: output %v, want approvedBy grace (the approver's answer)", doc["output"])
		}
	}
}

func TestATaskWithoutAMockFailsTheRun(t *testing.T) {
	code, doc := runJSON(t, "run", example+"statemachine.yaml", "--input-file", example+"input.json", "--clock", "virtual")
	cause, _ := doc["cause"].(string)
	if code != ExitFailed || doc["error"] != "States.TaskFailed" || !strings.Contains(cause, `no mock was given for state "ValidateOrder"`) {
		t.Errorf("exit %d, %v: %v; want States.TaskFailed naming ValidateOrder", code, doc["error"], cause)
	}
}

func TestTextOutputWithHistoryTable(t *testing.T) {
	code, stdout, stderr := runCLI("", "run", example+"statemachine.yaml", "--input-file", example+"input.json",
		"--mocks", example+"mocks.json", "--clock", "virtual", "--history")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range []string{"ID  PREV  TIME(ms)", "TaskFailed", "InventoryUnavailable: Warehouse service busy", "CheckInventory",
		"Status: SUCCEEDED", `"status": "CONFIRMED"`} {
		if !strings.Contains(stdout, s) {
			t.Errorf("text output lacks %q:\n%s", s, stdout)
		}
	}
}

func TestValidateReportsLocatedDiagnostics(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}`), 0o644)

	code, stdout, _ := runCLI("", "validate", bad)
	if code != ExitFailed || !strings.Contains(stdout, "/States/A/Next ") {
		t.Errorf("validate of a bad definition: exit %d, stdout %q; want exit 1 and a line at /States/A/Next", code, stdout)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if f := strings.Fields(line); len(f) < 3 || !strings.HasPrefix(f[0], "/") || strings.ToUpper(f[1]) != f[1] {
			t.Errorf("line %q is not LOCATION CODE MESSAGE", line)
		}
	}

	code, stdout, _ = runCLI("", "validate", "-o", "json", bad)
	var doc validateResult
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != ExitFailed || doc.Result != "FAIL" || len(doc.Diagnostics) == 0 {
		t.Errorf("validate -o json: exit %d, %v, %+v", code, err, doc)
	}

	code, stdout, _ = runCLI("", "validate", "-o", "json", example+"statemachine.yaml")
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || code != ExitOK || doc.Result != "OK" {
		t.Errorf("validate -o json of the example: exit %d, %v, %s", code, err, stdout)
	}

	code, _, stderr := runCLI("", "run", bad)
	if code != ExitUsage || !strings.Contains(stderr, "is not a valid state machine") || !strings.Contains(stderr, "/States/A/Next") {
		t.Errorf("run of a bad definition: exit %d, stderr %q; want exit 2 and the diagnostics", code, stderr)
	}
}

func TestRunReadsTheDefinitionAndInputFromFlagsAndStdin(t *testing.T) {
	def := `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"sum.$": "States.MathAdd($.a, $.b)", "name.$": "$$.Execution.Name"}, "End": true}}}`
	code, stdout, stderr := runCLI(def, "run", "-", "--input", `{"a": 2, "b": 3}`, "-o", "json", "--context", `{"Execution": {"Name": "e1"}}`)
	if code != ExitOK || strings.TrimSpace(stdout) != `{"status":"SUCCEEDED","output":{"name":"e1","sum":5},"error":null,"cause":null}` {
		t.Errorf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}
