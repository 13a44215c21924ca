package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// IdempotencyKey returns the key a row is sent with for its whole life
// (DESIGN.md "Exactly once"; Stone allows at most 72 characters,
// stone-api.md §5). With a reference the key depends only on the paying
// account and the reference, so the same reference in another file is
// recognised as the same payout: "lote-" + the first 40 hex digits of
// SHA-256(accountID + NUL + reference). Without one it is the batch (the
// file's SHA-256) and the row as Excel numbers it (header = 1):
// "lote-" + batchID[:40] + "-" + row.
func IdempotencyKey(accountID, batchID, reference string, row int) string {
	if reference != "" {
		sum := sha256.Sum256([]byte(accountID + "\x00" + reference))
		return "lote-" + hex.EncodeToString(sum[:])[:40]
	}
	id := batchID
	if len(id) > 40 {
		id = id[:40]
	}
	return "lote-" + id + "-" + strconv.Itoa(row)
}
