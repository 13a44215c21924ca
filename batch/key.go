package batch

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// maxReadableReference is the longest reference that is kept readable in
// its key: "lote-" + 8 hex + "-" + 48 characters = 62, under Stone's 72.
const maxReadableReference = 48

// IdempotencyKey returns the key a row is sent with for its whole life
// (DESIGN.md "Exactly once"; Stone allows at most 72 printable ASCII
// characters, stone-api.md §5). It has three forms:
//
//   - A readable reference, one that matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$
//     (what business ids usually are: "PAY-2026-11-001", "NF12345"):
//     "lote-" + the first 8 hex digits of SHA-256(accountID) + "-" +
//     reference, at most 62 characters. Sequential business references
//     give keys that sort in the order rows arrive, so the ledger's UNIQUE
//     key index is appended to rather than written at random places, and a
//     large import stays fast; and a person matching Stone's records to the
//     sheet sees the reference in the key.
//   - Any other reference (spaces, accents, other punctuation, longer):
//     "lote-" + the first 40 hex digits of SHA-256(accountID + NUL +
//     reference), 45 characters.
//   - No reference: the batch (the file's hex SHA-256) and the row as Excel
//     numbers it (header = 1): "lote-" + batchID[:40] + "-" + row.
//
// With a reference the key depends only on the paying account and the
// reference, never on the file or the row, so the same reference in
// another file is the same key and is recognised as the same payout
// (reference_reused, reference_repeated). The forms never collide: the
// readable form has '-' at index 13, while the hashed form, and the
// no-reference form of a hex batch id, have a hex digit there; the hashed
// form is exactly 45 characters without a second '-', the no-reference
// form has a '-' at index 45.
func IdempotencyKey(accountID, batchID, reference string, row int) string {
	if readableReference(reference) {
		acct := sha256.Sum256([]byte(accountID))
		return "lote-" + hex.EncodeToString(acct[:4]) + "-" + reference
	}
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

// readableReference reports whether ref can stand in a key as it is:
// 1 to 48 ASCII letters, digits, '.', '_' or '-', not starting with '.',
// '_' or '-'.
func readableReference(ref string) bool {
	if ref == "" || len(ref) > maxReadableReference {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}
