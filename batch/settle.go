package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// ResentKey is the key of a row settled as not paid and sent again
// (`lote settle --resend`): derived from the key it had, the batch, the
// row and how many times it was resent before, so it is new each time
// and never one Stone may still remember for the first attempt.
func ResentKey(key, batchID string, row, resends int) string {
	sum := sha256.Sum256([]byte("resent\x00" + key + "\x00" + batchID + "\x00" + strconv.Itoa(row) + "\x00" + strconv.Itoa(resends)))
	return "lote-s" + hex.EncodeToString(sum[:])[:40]
}
