package stone_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"lote/stone"
)

// FuzzWebhookDecode feeds arbitrary bodies and event-id headers to Decode:
// it must never panic, and whatever it accepts must carry an id and a type,
// with the header, when sent, equal to the id. The in-memory seeds include a
// genuine delivery, so mutations reach the decryption and the JWT.
func FuzzWebhookDecode(f *testing.F) {
	body := sealed(f, jwt.SigningMethodRS256, whSimKey(), whKid, whClaims())
	f.Add(body, "ev-1")
	f.Add(body, "")
	f.Add(encryptTo(f, &whAppKey().PublicKey, "x.y.z"), "")

	dec := stone.NewWebhookDecoder(whAppKey(), staticKeys(whKid, &whSimKey().PublicKey))
	dec.Now = func() time.Time { return whTuesday }
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		h := http.Header{}
		if id != "" {
			h.Set(stone.HeaderWebhookEventID, id)
		}
		ev, err := dec.Decode(context.Background(), h, body)
		if err != nil {
			return
		}
		if ev.ID == "" || ev.Type == "" || (id != "" && h.Get(stone.HeaderWebhookEventID) != ev.ID) {
			t.Errorf("accepted %+v with header id %q", ev, id)
		}
	})
}
