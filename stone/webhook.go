package stone

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Webhook headers Stone sends with every delivery (stone-api.md §7.3).
const (
	HeaderWebhookEventID   = "x-stone-webhook-event-id"
	HeaderWebhookEventType = "x-stone-webhook-event-type"
)

// Webhook event types of outgoing TEDs and their refunds (stone-api.md §7.3).
const (
	EventTransferCreated          = "cash_out_external_transfer"
	EventTransferApproved         = "cash_out_external_transfer_approved"
	EventTransferScheduled        = "cash_out_external_transfer_scheduled"
	EventTransferScheduledFailed  = "cash_out_external_transfer_scheduled_failed"
	EventTransferExecutionStarted = "cash_out_external_transfer_execution_started"
	EventTransferFinished         = "cash_out_external_transfer_finished"
	EventTransferFailed           = "cash_out_external_transfer_failed"
	EventTransferCancelled        = "cash_out_external_transfer_cancelled"
	EventTransferRejected         = "cash_out_external_transfer_rejected"
	EventTransferExpired          = "cash_out_external_transfer_expired"
	EventTransferRefund           = "cash_in_external_transfer_refund"
)

// Webhook event types of outgoing internal transfers (guias/WEBHOOKS).
const (
	EventInternalCreated   = "cash_out_internal_transfer"
	EventInternalApproved  = "cash_out_internal_transfer_approved"
	EventInternalScheduled = "cash_out_internal_transfer_scheduled"
	EventInternalFinished  = "cash_out_internal_transfer_finished"
	EventInternalFailed    = "cash_out_internal_transfer_failed"
	EventInternalCancelled = "cash_out_internal_transfer_cancelled"
	EventInternalRejected  = "cash_out_internal_transfer_rejected"
	EventInternalExpired   = "cash_out_internal_transfer_expired"
)

// Webhook event types of outbound Pix payments (guias/WEBHOOKS,
// pix_outbound_payment_*.json). Their target_data is the payment object;
// target_type is the event without "pix_outbound_" ("payment_created").
const (
	EventPixCreated       = "pix_outbound_payment_created"
	EventPixMoneyReserved = "pix_outbound_payment_money_reserved"
	EventPixFailed        = "pix_outbound_payment_failed"
	EventPixSettled       = "pix_outbound_payment_settled"
	EventPixRefunded      = "pix_outbound_payment_refunded"
)

// TargetExternalTransfer is the target_type of TED events, or its prefix:
// Stone's examples name the event in it ("external_transfer_finished").
const TargetExternalTransfer = "external_transfer"

// maxEventID bounds the x-stone-webhook-event-id header lote stores.
const maxEventID = 200

// MaxWebhookBody bounds the body Decode accepts; a TED event is about 3 KB.
const MaxWebhookBody = 1 << 20

// webhookLeeway is the clock skew tolerated on the JWT's nbf, exp and iat.
const webhookLeeway = 5 * time.Minute

// ErrInvalidWebhook is wrapped by Decode when the delivery is not a webhook
// Stone sent to this application: malformed, not encrypted to its key as
// RSA-OAEP-256/A256GCM, not signed RS256 by a key of Stone's key set, or
// whose header disagrees with its signed claims. Answering it with a 4xx is
// right; an error without it (the key set could not be fetched) is
// transient, and a 5xx makes Stone deliver again.
var ErrInvalidWebhook = errors.New("invalid webhook")

// KeySource returns the public key that verifies a signature made with the
// key kid. (*JWKS).Key is one.
type KeySource func(ctx context.Context, kid string) (*rsa.PublicKey, error)

// WebhookEvent is a decoded, verified webhook envelope (stone-api.md §7.3).
type WebhookEvent struct {
	// ID identifies one event, the same for every delivery of it, so it is
	// the key to deduplicate on: the x-stone-webhook-event-id header, or,
	// when a delivery lacks it, the resource's id and the event type
	// ("<target id>:<event type>"). The claim id is not: in Stone's
	// examples it is the resource's id, repeated by each of its events.
	ID string
	// ResourceID is the claim id: the id of the object the event is
	// about, as Stone's examples show it.
	ResourceID string
	// Type is the event type, such as EventTransferFinished.
	Type string
	// Env is "sandbox" or "production".
	Env string
	// HappenedAt is when the event happened, NotifiedAt when Stone sent it;
	// zero when the claim is absent.
	HappenedAt, NotifiedAt time.Time
	// TargetType is the kind of object the event is about, such as
	// TargetExternalTransfer; TargetID its id.
	TargetType, TargetID string
	// Transfer is target_data decoded when the target is an external
	// transfer (a TED or its refund), with AccountID set; nil otherwise.
	Transfer *Transfer
	// Internal is target_data decoded for an internal transfer's event
	// (cash_out_internal_transfer*); nil otherwise.
	Internal *InternalTransfer
	// Pix is target_data decoded for an outbound Pix's event
	// (pix_outbound_payment_*); nil otherwise.
	Pix *PixPayment
	// Raw is the verified JWT claims, as JSON, for fields lote does not read.
	Raw json.RawMessage
}

// WebhookDecoder opens webhook deliveries: it decrypts the JWE with the
// application's private key, verifies the inner JWT against Stone's keys and
// decodes the envelope. It is safe for concurrent use once set up.
type WebhookDecoder struct {
	key  *rsa.PrivateKey
	keys KeySource

	// Now is the clock the JWT's time claims are checked against; nil means
	// time.Now. Set it before the first Decode.
	Now func() time.Time
}

// NewWebhookDecoder returns a decoder for webhooks encrypted to key (the
// application's key pair, stone-api.md §1.2) and signed by a key that keys
// returns.
func NewWebhookDecoder(key *rsa.PrivateKey, keys KeySource) *WebhookDecoder {
	return &WebhookDecoder{key: key, keys: keys}
}

// Decode opens one delivery: header is the request's header, body its
// {"encrypted_body": "<compact JWE>"} body. Only RSA-OAEP-256 with A256GCM
// and an RS256 signature are accepted. When the x-stone-webhook-event-id or
// x-stone-webhook-event-type header is present, it must equal the signed
// claim. Unknown fields are ignored. Errors wrap ErrInvalidWebhook, except
// those of the key source, which are returned as they are.
func (d *WebhookDecoder) Decode(ctx context.Context, header http.Header, body []byte) (WebhookEvent, error) {
	if d.key == nil || d.keys == nil {
		return WebhookEvent{}, errors.New("decode webhook: decoder has no private key or key source")
	}
	if len(body) > MaxWebhookBody {
		return WebhookEvent{}, invalid("body is larger than %d bytes", MaxWebhookBody)
	}
	var wire struct {
		EncryptedBody *string `json:"encrypted_body"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return WebhookEvent{}, invalid("body is not JSON with encrypted_body: %v", err)
	}
	if wire.EncryptedBody == nil || *wire.EncryptedBody == "" {
		return WebhookEvent{}, invalid("body has no encrypted_body")
	}
	jws, err := decryptJWE(d.key, *wire.EncryptedBody)
	if err != nil {
		return WebhookEvent{}, err
	}
	claims, err := d.verify(ctx, jws)
	if err != nil {
		return WebhookEvent{}, err
	}
	ev, err := decodeEnvelope(claims)
	if err != nil {
		return WebhookEvent{}, err
	}
	// The event id travels only in the header (the signed id is the
	// resource's). It is not signed, so it decides only what counts as a
	// redelivery, never what is applied.
	if h := header.Get(HeaderWebhookEventID); h != "" {
		if len(h) > maxEventID {
			return WebhookEvent{}, invalid("header %s is longer than %d bytes", HeaderWebhookEventID, maxEventID)
		}
		ev.ID = h
	}
	if h := header.Get(HeaderWebhookEventType); h != "" && h != ev.Type {
		return WebhookEvent{}, invalid("header %s %q differs from the signed event type %q", HeaderWebhookEventType, h, ev.Type)
	}
	return ev, nil
}

func invalid(format string, a ...any) error {
	return fmt.Errorf("decode webhook: %w: %s", ErrInvalidWebhook, fmt.Sprintf(format, a...))
}

// jweHeader is the protected header of a compact JWE (RFC 7516 §4).
type jweHeader struct {
	Alg  string          `json:"alg"`
	Enc  string          `json:"enc"`
	Zip  string          `json:"zip"`
	Crit json.RawMessage `json:"crit"`
}

// decryptJWE opens a compact JWE made with RSA-OAEP-256 and A256GCM
// (RFC 7516 §5.2, RFC 7518 §4.3 and §5.3); any other algorithm is refused
// before the key is used.
func decryptJWE(key *rsa.PrivateKey, compact string) ([]byte, error) {
	parts := strings.Split(compact, ".")
	if len(parts) != 5 {
		return nil, invalid("encrypted_body has %d dot-separated parts, want the 5 of a compact JWE", len(parts))
	}
	raw := make([][]byte, 5)
	names := [5]string{"protected header", "encrypted key", "iv", "ciphertext", "tag"}
	for i, p := range parts {
		b, err := base64.RawURLEncoding.DecodeString(p)
		if err != nil {
			return nil, invalid("jwe %s is not base64url: %v", names[i], err)
		}
		raw[i] = b
	}
	var h jweHeader
	if err := json.Unmarshal(raw[0], &h); err != nil {
		return nil, invalid("jwe protected header: %v", err)
	}
	switch {
	case h.Alg != "RSA-OAEP-256":
		return nil, invalid("jwe alg %q is not RSA-OAEP-256", h.Alg)
	case h.Enc != "A256GCM":
		return nil, invalid("jwe enc %q is not A256GCM", h.Enc)
	case h.Zip != "":
		return nil, invalid("jwe zip %q is not supported", h.Zip)
	case len(h.Crit) > 0 && string(h.Crit) != "null":
		// RFC 7515 §4.1.11: an unknown critical extension must be refused.
		return nil, invalid("jwe crit %s is not supported", h.Crit)
	}
	ek, iv, ct, tag := raw[1], raw[2], raw[3], raw[4]
	if len(iv) != 12 {
		return nil, invalid("jwe iv is %d bytes, want 12", len(iv))
	}
	if len(tag) != 16 {
		return nil, invalid("jwe tag is %d bytes, want 16", len(tag))
	}
	cek, err := rsa.DecryptOAEP(sha256.New(), nil, key, ek, nil)
	if err != nil {
		// Not encrypted to this key, or altered: one message for both, so
		// that the answer says nothing about the padding.
		return nil, invalid("jwe encrypted key does not open with the application's key")
	}
	if len(cek) != 32 {
		return nil, invalid("jwe content key is %d bytes, want 32 for A256GCM", len(cek))
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, invalid("jwe content key: %v", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, invalid("jwe content key: %v", err)
	}
	// The additional authenticated data is the protected header exactly as
	// it was sent, base64url and all (RFC 7516 §5.2 step 14).
	sealed := make([]byte, 0, len(ct)+len(tag))
	sealed = append(append(sealed, ct...), tag...)
	plain, err := gcm.Open(nil, iv, sealed, []byte(parts[0]))
	if err != nil {
		return nil, invalid("jwe ciphertext or tag was altered: authentication failed")
	}
	return plain, nil
}

// verify checks the inner JWT's RS256 signature and time claims and returns
// its claims as JSON.
func (d *WebhookDecoder) verify(ctx context.Context, token []byte) (json.RawMessage, error) {
	var keyErr error
	keyFunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pub, err := d.keys(ctx, kid)
		if err != nil {
			keyErr = err
			return nil, err
		}
		return pub, nil
	}
	now := d.Now
	if now == nil {
		now = time.Now
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithTimeFunc(now),
		jwt.WithLeeway(webhookLeeway),
		jwt.WithJSONNumber(),
	).ParseWithClaims(string(bytes.TrimSpace(token)), claims, keyFunc)
	switch {
	case keyErr != nil && !errors.Is(keyErr, ErrUnknownKey):
		// Stone's keys could not be had: the delivery may be genuine.
		return nil, fmt.Errorf("decode webhook: %w", keyErr)
	case keyErr != nil:
		return nil, invalid("jwt: %v", keyErr)
	case err != nil:
		return nil, invalid("jwt: %v", err)
	}
	// The payload segment is the signed JSON; keep it as sent rather than
	// re-encoding the map, so Raw holds exactly what Stone signed.
	segs := strings.Split(string(bytes.TrimSpace(token)), ".")
	payload, err := base64.RawURLEncoding.DecodeString(segs[1])
	if err != nil {
		return nil, invalid("jwt payload: %v", err)
	}
	return payload, nil
}

// envelope is the webhook's JWT claims (stone-api.md §7.3).
type envelope struct {
	Env             string          `json:"env"`
	EventType       string          `json:"event_type"`
	ID              string          `json:"id"`
	HappenedAt      json.RawMessage `json:"event_happened_at"`
	NotifiedAt      json.RawMessage `json:"event_notified_at"`
	TargetType      string          `json:"target_type"`
	TargetID        string          `json:"target_id"`
	TargetData      json.RawMessage `json:"target_data"`
	TargetDetailURI string          `json:"target_detail_uri"`
}

func decodeEnvelope(claims json.RawMessage) (WebhookEvent, error) {
	var e envelope
	if err := json.Unmarshal(claims, &e); err != nil {
		return WebhookEvent{}, invalid("claims: %v", err)
	}
	if e.ID == "" {
		return WebhookEvent{}, invalid("claim id is missing")
	}
	if e.EventType == "" {
		return WebhookEvent{}, invalid("event %s: claim event_type is missing", e.ID)
	}
	if e.TargetID == "" {
		e.TargetID = e.ID
	}
	ev := WebhookEvent{ID: e.TargetID + ":" + e.EventType, ResourceID: e.ID, Type: e.EventType, Env: e.Env,
		TargetType: e.TargetType, TargetID: e.TargetID, Raw: claims}
	var err error
	if ev.HappenedAt, err = claimTime(e.HappenedAt); err != nil {
		return WebhookEvent{}, invalid("event %s: claim event_happened_at: %v", e.ID, err)
	}
	if ev.NotifiedAt, err = claimTime(e.NotifiedAt); err != nil {
		return WebhookEvent{}, invalid("event %s: claim event_notified_at: %v", e.ID, err)
	}
	if isTransferEvent(e) && len(e.TargetData) > 0 && string(e.TargetData) != "null" {
		var t Transfer
		// A malformed amount must fail loudly: a transfer decoded with a
		// wrong amount would be worse than none.
		if err := json.Unmarshal(e.TargetData, &t); err != nil {
			return WebhookEvent{}, invalid("event %s: target_data is not a transfer: %v", e.ID, err)
		}
		if t.ID == "" {
			t.ID = e.TargetID
		}
		if e.TargetID != "" && t.ID != e.TargetID {
			return WebhookEvent{}, invalid("event %s: target_data.id %q differs from target_id %q", e.ID, t.ID, e.TargetID)
		}
		ev.Transfer = &t
	}
	hasData := len(e.TargetData) > 0 && string(e.TargetData) != "null"
	switch {
	case hasData && strings.HasPrefix(e.EventType, EventInternalCreated):
		var t InternalTransfer
		if err := json.Unmarshal(e.TargetData, &t); err != nil {
			return WebhookEvent{}, invalid("event %s: target_data is not an internal transfer: %v", e.ID, err)
		}
		if t.ID == "" || (e.TargetID != "" && t.ID != e.TargetID) {
			return WebhookEvent{}, invalid("event %s: target_data.id %q differs from target_id %q", e.ID, t.ID, e.TargetID)
		}
		ev.Internal = &t
	case hasData && strings.HasPrefix(e.EventType, "pix_outbound_payment_"):
		var p PixPayment
		if err := json.Unmarshal(e.TargetData, &p); err != nil {
			return WebhookEvent{}, invalid("event %s: target_data is not a Pix payment: %v", e.ID, err)
		}
		if p.ID == "" || (e.TargetID != "" && p.ID != e.TargetID) {
			return WebhookEvent{}, invalid("event %s: target_data.id %q differs from target_id %q", e.ID, p.ID, e.TargetID)
		}
		ev.Pix = &p
	}
	return ev, nil
}

// isTransferEvent says whether target_data is an external transfer object:
// by target_type, or, since Stone's examples spell target_type
// inconsistently (stone-api.md §7.3), by the TED event names.
func isTransferEvent(e envelope) bool {
	return strings.HasPrefix(e.TargetType, TargetExternalTransfer) ||
		strings.HasPrefix(e.EventType, EventTransferCreated) ||
		e.EventType == EventTransferRefund
}

// claimTime reads a timestamp claim written as an RFC 3339 string or as
// Unix seconds; null or absent is the zero time.
func claimTime(raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
		}
		return t, nil
	}
	secs, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || secs < 0 || secs > 1e11 {
		return time.Time{}, fmt.Errorf("%s is neither an RFC 3339 time nor Unix seconds", raw)
	}
	whole := int64(secs)
	return time.Unix(whole, int64((secs-float64(whole))*1e9)).UTC(), nil
}
