// Command order-tasks is the order demo's task containers in one binary (image
// kstates.local/order-tasks:dev): its first argument names the task.
//
//	order-tasks validate-order | check-inventory | check-fraud | request-approval |
//	            charge-payment | refund | notify | send-confirmation
//
// Each reads its input and reports its output or named error through internal/taskkit (the
// pod task contract). The tasks are deterministic so that the demo's three paths can be
// chosen by the order itself:
//   - check-inventory fails with InventoryUnavailable while the attempt ($KSTATES_ATTEMPT,
//     from 0) is below the input's failAttempts, which defaults to 1 when the order id
//     contains "flaky": the first attempt fails, the retry succeeds;
//   - charge-payment declines with PaymentDeclined the card 4000000000000002 (any card
//     ending in 0002), or any order whose id contains "decline";
//   - check-fraud scores 95 for a customer id containing "fraud", 90 above 1,000,000 cents;
//   - request-approval is the callback task of a .waitForTaskToken state: it "asks" a person
//     (it logs the command that approves) and exits 0, which leaves the task waiting until
//     someone runs `kstates send-task-success` (or send-task-failure --error Rejected).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kstates/kstates/internal/taskkit"
)

var tasks = map[string]taskkit.Handler{
	"validate-order":    validateOrder,
	"check-inventory":   checkInventory,
	"check-fraud":       checkFraud,
	"request-approval":  requestApproval,
	"charge-payment":    chargePayment,
	"refund":            refund,
	"notify":            notify,
	"send-confirmation": sendConfirmation,
}

func main() {
	name := filepath.Base(os.Args[0]) // also callable through a link named after the task
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	h, ok := tasks[name]
	if !ok {
		names := make([]string, 0, len(tasks))
		for n := range tasks {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: order-tasks TASK (one of %s)\n", strings.Join(names, ", "))
		os.Exit(2)
	}
	taskkit.Main(h)
}

type item struct {
	SKU        string `json:"sku"`
	Qty        int    `json:"qty"`
	PriceCents int64  `json:"priceCents"`
}

// validateOrder checks the order and prices it.
func validateOrder(t *taskkit.Task) (any, error) {
	var in struct {
		OrderID    string `json:"orderId"`
		Items      []item `json:"items"`
		Currency   string `json:"currency"`
		ReceivedAt string `json:"receivedAt"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	if in.OrderID == "" {
		return nil, taskkit.Errorf("InvalidOrder", "the order has no orderId")
	}
	if len(in.Items) == 0 {
		return nil, taskkit.Errorf("InvalidOrder", "order %s has no items", in.OrderID)
	}
	var total int64
	for i, it := range in.Items {
		if it.SKU == "" || it.Qty <= 0 || it.PriceCents < 0 {
			return nil, taskkit.Errorf("InvalidOrder", "order %s: item %d needs a sku, a positive qty and a price", in.OrderID, i)
		}
		total += int64(it.Qty) * it.PriceCents
	}
	currency := in.Currency
	if currency == "" {
		currency = "EUR"
	}
	t.Logf("order %s: %d items, %d cents %s", in.OrderID, len(in.Items), total, currency)
	return map[string]any{"valid": true, "orderId": in.OrderID, "totalCents": total, "currency": currency, "itemCount": len(in.Items)}, nil
}

// checkInventory reserves the items; flaky on request (see the package comment).
func checkInventory(t *taskkit.Task) (any, error) {
	var in struct {
		OrderID      string   `json:"orderId"`
		SKUs         []string `json:"skus"`
		FailAttempts *int     `json:"failAttempts"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	fail := 0
	if strings.Contains(in.OrderID, "flaky") {
		fail = 1
	}
	if in.FailAttempts != nil {
		fail = *in.FailAttempts
	}
	if t.Attempt < fail {
		return nil, taskkit.Errorf("InventoryUnavailable", "warehouse service busy (attempt %d of order %s), try again", t.Attempt, in.OrderID)
	}
	for _, s := range in.SKUs {
		if strings.HasPrefix(s, "SOLDOUT") {
			return nil, taskkit.Errorf("OutOfStock", "%s is out of stock", s)
		}
	}
	t.Logf("order %s: reserved %d skus on attempt %d", in.OrderID, len(in.SKUs), t.Attempt)
	return map[string]any{"reserved": true, "reservationId": "res-" + in.OrderID, "skus": len(in.SKUs), "attempt": t.Attempt}, nil
}

// checkFraud scores the order.
func checkFraud(t *taskkit.Task) (any, error) {
	var in struct {
		CustomerID  string `json:"customerId"`
		AmountCents int64  `json:"amountCents"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	score := 12
	switch {
	case strings.Contains(in.CustomerID, "fraud"):
		score = 95
	case in.AmountCents > 1_000_000:
		score = 90
	}
	return map[string]any{"score": score, "model": "v3"}, nil
}

// requestApproval asks for a manager's approval of a large order. It is bound to
// arn:aws:states:::lambda:invoke.waitForTaskToken, so its input is that integration's
// Parameters: {"FunctionName": ..., "Payload": {orderId, totalCents, taskToken, ...}}. Its
// output is ignored: the approver's `kstates send-task-success` completes the task.
func requestApproval(t *taskkit.Task) (any, error) {
	var in struct {
		FunctionName string `json:"FunctionName"`
		Payload      struct {
			OrderID     string `json:"orderId"`
			TotalCents  int64  `json:"totalCents"`
			Currency    string `json:"currency"`
			CustomerID  string `json:"customerId"`
			TaskToken   string `json:"taskToken"`
			Approvers   string `json:"approvers"`
			Description string `json:"description"`
		} `json:"Payload"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	p := in.Payload
	token := p.TaskToken
	if token == "" {
		token = t.TaskToken // the same string ($KSTATES_TASK_TOKEN)
	}
	if token == "" {
		return nil, taskkit.Errorf("NoTaskToken", "request-approval runs as a .waitForTaskToken task: pass taskToken.$: $$.Task.Token in the Payload")
	}
	t.Logf("order %s (%d.%02d %s, customer %s) needs an approval; approve with:", p.OrderID, p.TotalCents/100, p.TotalCents%100, p.Currency, p.CustomerID)
	t.Logf(`  kstates send-task-success --token %s --output '{"approved": true, "approver": "YOUR NAME"}'`, token)
	t.Logf("or reject with:\n  kstates send-task-failure --token %s --error Rejected --cause WHY", token)
	return map[string]any{"requested": true, "orderId": p.OrderID}, nil
}

// declineCard is the card number payment processors use in tests for a declined card.
const declineCard = "4000000000000002"

// chargePayment charges the card, or declines it (see the package comment).
func chargePayment(t *taskkit.Task) (any, error) {
	var in struct {
		OrderID        string `json:"orderId"`
		AmountCents    int64  `json:"amountCents"`
		Currency       string `json:"currency"`
		Card           string `json:"card"`
		IdempotencyKey string `json:"idempotencyKey"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	card := in.Card
	if card == "" {
		card = "4242424242424242"
	}
	last4 := card[max(0, len(card)-4):]
	if strings.HasSuffix(card, declineCard[12:]) || strings.Contains(in.OrderID, "decline") {
		return nil, taskkit.Errorf("PaymentDeclined", "Card ending %s declined: insufficient funds", last4)
	}
	if in.AmountCents <= 0 {
		return nil, taskkit.Errorf("InvalidAmount", "cannot charge %d cents", in.AmountCents)
	}
	t.Logf("order %s: charged %d %s to card ending %s (key %s)", in.OrderID, in.AmountCents, in.Currency, last4, in.IdempotencyKey)
	return map[string]any{"chargeId": "ch_" + in.OrderID, "status": "CAPTURED", "amountCents": in.AmountCents, "last4": last4}, nil
}

// refund releases the reservation and any authorisation hold.
func refund(t *taskkit.Task) (any, error) {
	var in struct {
		OrderID       string `json:"orderId"`
		ReservationID string `json:"reservationId"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	t.Logf("order %s: released reservation %q", in.OrderID, in.ReservationID)
	return map[string]any{"released": true, "reservationId": in.ReservationID}, nil
}

// notify "sends" a message to the customer (it logs it).
func notify(t *taskkit.Task) (any, error) {
	var in struct {
		To      string `json:"to"`
		Message string `json:"message"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	if in.To == "" {
		return nil, taskkit.Errorf("InvalidRecipient", "no recipient")
	}
	t.Logf("to %s: %s", in.To, in.Message)
	return map[string]any{"messageId": messageID(in.To, in.Message), "delivered": true}, nil
}

// sendConfirmation "sends" the order confirmation (it logs it).
func sendConfirmation(t *taskkit.Task) (any, error) {
	var in struct {
		To       string `json:"to"`
		Subject  string `json:"subject"`
		ChargeID string `json:"chargeId"`
	}
	if err := t.Decode(&in); err != nil {
		return nil, err
	}
	if in.To == "" {
		return nil, taskkit.Errorf("InvalidRecipient", "no recipient")
	}
	t.Logf("to %s: %s (charge %s)", in.To, in.Subject, in.ChargeID)
	return map[string]any{"messageId": messageID(in.To, in.Subject), "accepted": true}, nil
}

// messageID is a stable id for a message (FNV-1a of its recipient and text).
func messageID(parts ...string) string {
	h := uint32(2166136261)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint32(p[i])
			h *= 16777619
		}
		h ^= 0xff
	}
	return fmt.Sprintf("msg-%08x", h)
}
