// Package stone is a client for Stone's Open Banking API: authentication by
// a signed client assertion, external transfers (TED), the scheduling
// calendar, balances and fees. Its wire types are shared with the emulator in
// stone/stonetest. ../shared/stone-api.md (cited as stone-api.md §N) is the
// reference for every rule here.
package stone
