package stone

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrConfig is returned (wrapped with Stone's detail) when Stone refuses the
// credentials or the account (401 after a fresh token, 403, or a token
// endpoint that refuses the client). Waiting does not help; the
// configuration must change.
var ErrConfig = errors.New("configuration refused by Stone")

// ConfigError returns an error wrapping ErrConfig when err is Stone
// refusing the credentials or the account, else nil.
func ConfigError(err error) error {
	var se *Error
	if !errors.As(err, &se) {
		return nil
	}
	o, _ := Classify(err)
	if se.Status == http.StatusUnauthorized || se.Status == http.StatusForbidden ||
		(errors.Is(err, ErrNotSent) && o == OutcomeFinal) {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

// MaskAccount keeps the last 4 characters of an account id, for messages
// and logs.
func MaskAccount(id string) string {
	if len(id) <= 4 {
		return id
	}
	return "…" + id[len(id)-4:]
}
