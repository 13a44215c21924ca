package stone

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzErrorBody feeds any answer body to the error decoder: it must not
// panic, must keep the status, must produce one bounded line of valid UTF-8,
// and must keep the type of every body that ErrorBody itself reads.
func FuzzErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"type":"srn:error:validation","reason":[{"error":"is invalid","path":["target","account","account_code"]}]}`,
		`{"type":"srn:error:product_not_enabled","reason":"not enabled"}`,
		`{"type":"srn:error:bad_request","errors":[{"error":"is invalid","path":["tax_id"]}]}`,
		`{"type":"srn:error:invalid_amount","title":"Given amount is less than or equal to zero"}`,
		`{"path":"limit","type":"srn:error:invalid_cursor"}`,
		`{"error":"invalid_client","error_description":"bad"}`,
		`<html><body><h1>502 Bad Gateway</h1></body></html>`,
		`{"type":1}`, `{"reason":[1]}`, `[]`, `null`, "", "\xff\xfe",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string) {
		e := newError(400, http.Header{}, []byte(body), now)
		msg := e.Error()
		if e.Status != 400 || !strings.HasPrefix(msg, "stone: 400") {
			t.Fatalf("message %q lost the status", msg)
		}
		if !utf8.ValidString(msg) || strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("message %q is not one line of UTF-8", msg)
		}
		if len(e.Detail) > maxDetail || len(e.Type) > maxDetail {
			t.Fatalf("detail is %d bytes", len(e.Detail))
		}
		var eb ErrorBody
		if json.Unmarshal([]byte(strings.TrimSpace(body)), &eb) == nil && eb.Type != "" &&
			strings.TrimSpace(body) != "" && strings.TrimSpace(body)[0] == '{' {
			if want := oneLine(eb.Type, maxDetail); e.Type != want {
				t.Fatalf("type %q decoded as %q", eb.Type, e.Type)
			}
		}
	})
}

// FuzzPixOperation: an item of the list of Pix operations decodes without
// panicking, and a payment or refund is set only for its own type.
func FuzzPixOperation(f *testing.F) {
	for _, s := range []string{
		`{"type":"outbound_pix_payment","id":"e59c23d8-eb3a-4a67-8687-ebfe163211a8","amount":28309,"refunded_amount":869707,"status":"SETTLED"}`,
		`{"type":"refund_for_outbound_pix_payment","id":"aa44243f","amount":1010,"outbound_pix_payment_id":"e59c23d8","refund_reason_code":"2"}`,
		`{"type":"refund_for_inbound_pix_payment","amount":39511}`,
		`{"type":"outbound_pix_payment","amount":"1"}`, `{}`, `[]`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var op PixOperation
		if err := json.Unmarshal([]byte(s), &op); err != nil {
			return
		}
		if (op.Payment != nil) != (op.Type == PixTypeOutboundPayment) || (op.Refund != nil) != (op.Type == PixTypeRefundForOutbound) {
			t.Errorf("type %q decoded as payment %v refund %v", op.Type, op.Payment != nil, op.Refund != nil)
		}
	})
}
