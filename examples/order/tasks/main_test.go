package main

import (
	"bytes"
	"io/fs"
	"testing"

	"github.com/kstates/kstates/internal/taskkit"
)

// run runs task with input at attempt and returns its exit code and termination message.
func run(t *testing.T, task, input, attempt string) (int, string) {
	t.Helper()
	var msg []byte
	var stderr bytes.Buffer
	env := taskkit.Env{
		Getenv: func(k string) string {
			switch k {
			case taskkit.EnvInput:
				return input
			case taskkit.EnvAttempt:
				return attempt
			}
			return ""
		},
		ReadFile:  func(string) ([]byte, error) { return nil, fs.ErrNotExist },
		WriteFile: func(_ string, b []byte) error { msg = b; return nil },
		Stdout:    &bytes.Buffer{},
		Stderr:    &stderr,
	}
	return taskkit.Run(env, tasks[task]), string(msg)
}

func TestOrderTasks(t *testing.T) {
	cases := []struct {
		reason, task, input, attempt string
		wantCode                     int
		wantMessage                  string
	}{
		{"an order is priced", "validate-order", `{"orderId":"o1","items":[{"sku":"A","qty":2,"priceCents":1999},{"sku":"B","qty":1,"priceCents":999}]}`, "0",
			0, `{"currency":"EUR","itemCount":2,"orderId":"o1","totalCents":4997,"valid":true}`},
		{"an order without items is invalid", "validate-order", `{"orderId":"o1","items":[]}`, "0",
			1, `{"Error":"InvalidOrder","Cause":"order o1 has no items"}`},
		{"inventory reserves", "check-inventory", `{"orderId":"o1","skus":["A"]}`, "0",
			0, `{"attempt":0,"reservationId":"res-o1","reserved":true,"skus":1}`},
		{"a flaky order fails its first inventory attempt", "check-inventory", `{"orderId":"flaky-1","skus":["A"]}`, "0",
			1, `{"Error":"InventoryUnavailable","Cause":"warehouse service busy (attempt 0 of order flaky-1), try again"}`},
		{"and succeeds on the retry", "check-inventory", `{"orderId":"flaky-1","skus":["A"]}`, "1",
			0, `{"attempt":1,"reservationId":"res-flaky-1","reserved":true,"skus":1}`},
		{"failAttempts asks for more failures", "check-inventory", `{"orderId":"o1","skus":[],"failAttempts":2}`, "1",
			1, `{"Error":"InventoryUnavailable","Cause":"warehouse service busy (attempt 1 of order o1), try again"}`},
		{"fraud scores low", "check-fraud", `{"customerId":"c1","amountCents":4997}`, "0",
			0, `{"model":"v3","score":12}`},
		{"an approval request needs a token", "request-approval", `{"FunctionName":"RequestApproval","Payload":{"orderId":"o1","totalCents":120000}}`, "0",
			1, `{"Error":"NoTaskToken","Cause":"request-approval runs as a .waitForTaskToken task: pass taskToken.$: $$.Task.Token in the Payload"}`},
		{"an approval is requested", "request-approval", `{"FunctionName":"RequestApproval","Payload":{"orderId":"o1","totalCents":120000,"taskToken":"tok"}}`, "0",
			0, `{"orderId":"o1","requested":true}`},
		{"a payment is captured", "charge-payment", `{"orderId":"o1","amountCents":4997,"currency":"EUR"}`, "0",
			0, `{"amountCents":4997,"chargeId":"ch_o1","last4":"4242","status":"CAPTURED"}`},
		{"the decline card is declined", "charge-payment", `{"orderId":"o1","amountCents":4997,"card":"4000000000000002"}`, "0",
			1, `{"Error":"PaymentDeclined","Cause":"Card ending 0002 declined: insufficient funds"}`},
		{"a decline order is declined", "charge-payment", `{"orderId":"decline-1","amountCents":4997}`, "0",
			1, `{"Error":"PaymentDeclined","Cause":"Card ending 4242 declined: insufficient funds"}`},
		{"refund releases", "refund", `{"orderId":"o1","reservationId":"res-o1"}`, "0",
			0, `{"released":true,"reservationId":"res-o1"}`},
		{"notify needs a recipient", "notify", `{"message":"hi"}`, "0",
			1, `{"Error":"InvalidRecipient","Cause":"no recipient"}`},
		{"a confirmation is accepted", "send-confirmation", `{"to":"ada@example.com","subject":"Order o1 confirmed","chargeId":"ch_o1"}`, "0",
			0, `{"accepted":true,"messageId":"` + messageID("ada@example.com", "Order o1 confirmed") + `"}`},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			code, msg := run(t, c.task, c.input, c.attempt)
			if code != c.wantCode || msg != c.wantMessage {
				t.Errorf("got %d %s\nwant %d %s", code, msg, c.wantCode, c.wantMessage)
			}
		})
	}
}
