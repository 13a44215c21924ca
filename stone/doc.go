// Package stone is a client for Stone's Open Banking API: authentication by
// a signed client assertion, external transfers (TED), internal transfers
// to Stone accounts, outbound Pix (create, then confirm, each with its own
// idempotency key), the scheduling calendar, balances, fees, statements and
// receipts. Its wire types are shared with the emulator in
// stone/stonetest. ../shared/stone-api.md (cited as stone-api.md §N) is the
// reference for every rule here.
package stone
