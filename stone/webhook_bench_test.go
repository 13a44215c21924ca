package stone_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/stone"
)

// BenchmarkWebhookDecode measures one delivery: an RSA-OAEP decryption and
// an RS256 verification with 2048-bit keys, then the JSON envelope.
func BenchmarkWebhookDecode(b *testing.B) {
	body := sealed(b, jwt.SigningMethodRS256, whSimKey(), whKid, whClaims())
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
