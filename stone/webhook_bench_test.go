package stone_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/stone"
	"lote/stone/stonetest"
)

// BenchmarkWebhookDecode measures one delivery: an RSA-OAEP decryption and
// an RS256 verification with 2048-bit keys, then the JSON envelope.
func BenchmarkWebhookDecode(b *testing.B) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, whClaims())
	tok.Header["kid"] = whKid
	signed, err := tok.SignedString(whSimKey())
	if err != nil {
		b.Fatal(err)
	}
	jwe, err := stonetest.EncryptJWE(&whAppKey().PublicKey, []byte(signed))
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"encrypted_body":"` + jwe + `"}`)
	dec := stone.NewWebhookDecoder(whAppKey(), staticKeys(whKid, &whSimKey().PublicKey))
	dec.Now = func() time.Time { return whTuesday }
	h := http.Header{stone.HeaderWebhookEventID: {"ev-1"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(context.Background(), h, body); err != nil {
			b.Fatal(err)
		}
	}
}
