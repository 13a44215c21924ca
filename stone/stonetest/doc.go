// Package stonetest is an emulator of Stone's Open Banking API that runs in
// process, the way net/http/httptest runs a server: NewServer starts it on
// 127.0.0.1 with a random port, Server.URL points at it, Close waits for the
// requests still being served. A Server is also an http.Handler, so
// cmd/stonesim and tests can mount it on their own listener.
//
// It serves, on one address, the token endpoint
// (/auth/realms/stone_bank/protocol/openid-connect/token) and the API
// (/api/v1/...), and behaves as ../shared/stone-api.md describes (cited as
// stone-api.md §N). Where Stone's documentation is silent or contradicts
// itself, stone-api.md §0 fixes the default and an Option selects the other
// reading:
//
//   - Authentication: client assertions are verified as Stone's Keycloak
//     does (§1.3); Options.LenientAssertions accepts what Stone's public client
//     libraries send (2-hour assertions, a client_id claim). Access tokens are
//     RS256 JWTs valid for 900 seconds of the emulator's clock.
//   - Transfers created outside the TED window (§2.4) get the status
//     DELAYED_TO_NEXT_BUSINESS_DAY and the flag; Options.DelayedAsScheduled
//     reports SCHEDULED with the flag instead.
//   - amount is accepted up to 999999999999999999 cents (the transfer object
//     page); Options.Int32Amount caps it at 2147483647, the int32 of the
//     create page.
//   - Idempotency (§5) is scoped per client. Only accepted creates (202) are
//     remembered: a request answered with an error leaves its key unused, so
//     a corrected retry with the same key goes through.
//   - target.account.account_type is echoed when the request sent one or when
//     the account-type rules turned it into PG; a null type that defaults to
//     CC is not echoed, as in Stone's documented 202 example. Stripped
//     leading zeros of account_code and a removed branch_code are echoed as
//     Stone stores them. institution_code is echoed as sent.
//   - Insufficient funds are found at execution: the transfer is accepted and
//     later FAILED with failure_reason_code "1" (a JSON string, as the
//     documentation types it) and fee 0 (§2.3). A scheduled TED short of
//     funds on its date ends REFUNDED instead, as the refund section says;
//     Options.ScheduledShortfallFails keeps it FAILED.
//   - The TED window closes at 17:23 (Options.EarlyCutoff: 17:20); the
//     calendar (holidays.go, Febraban's list) has no TED on December 31;
//     an internal_transfer calendar has no non-business day; it answers
//     201, as documented.
//   - Every request needs a User-Agent (Options.AllowMissingUserAgent);
//     each endpoint needs a scope of the client's (Server.SetScopes), else
//     403 srn:error:unauthorized.
//   - Options.OwnerApproval: transfers wait in CREATED for the account's
//     owner (Server.ApproveAsOwner, RejectAsOwner, /_sim/transfers/{id}/…)
//     and expire when nobody decides; the application's approve gets 403.
//   - The statement (GET /api/v1/accounts/{id}/statement, an entry by id)
//     lists each executed TED's debit and each refund's external_refund
//     credit; POST /api/v1/receipts returns a one-page PDF receipt.
//   - Institutions are lote's own directory (validate.STRParticipant); a
//     Pix by bank data needs an institution that takes part in Pix
//     (validate.PixParticipant).
//   - Internal transfers (internal.go) are resolved against a directory of
//     Stone accounts (Server.AddStoneAccount), run 24×7, finish a second
//     after they are created and are never refunded.
//   - Outbound Pix (pix.go) is created against a key directory
//     (Server.AddPixKey) or bank data, waits in CREATED until confirmed and
//     never expires, then moves CONFIRMED → MONEY_RESERVED → SETTLED on the
//     clock; refunds, whole or partial, are separate objects
//     (Server.RefundPix, Options.PixRefundRule). Faults.PixConfirmUnavailableRate
//     answers confirmations 503.
//   - Idempotency keys are scoped per client and per endpoint (a Pix's
//     create and confirm keys never collide); Stone documents no scope.
//
// Time comes from a clock the test controls (Options.Now, Server.Advance,
// Server.SetNow). Transfers move through their lifecycle lazily: every
// request, Advance, SetNow and inspection call first applies the transitions
// that are due by the emulator's clock, in the order they were scheduled.
// Brazil has kept UTC−3 all year since 2019, so the TED window and calendar
// dates use that fixed offset for America/Sao_Paulo.
//
// Faults (latency, rate limit, 500/503 answers, connections dropped after
// the transfer is committed, a per-request hook) are set with
// Server.SetFaults, safely while the server is serving; their randomness
// comes from a math/rand/v2 source seeded with Options.Seed. Ids come from
// crypto/rand, so that no two emulators issue the same one, unless
// Options.DeterministicIDs draws them from the seeded source too.
//
// Webhooks (stone-api.md §7.3): Server.SetWebhook registers a client's URL.
// As in the documentation's examples, the claim id and target_id are the
// transfer's id, repeated by each of its events, and target_type names the
// event ("external_transfer_finished"); the x-stone-webhook-event-id header
// identifies one event, the same for its retries and duplicates.
// Every status change of that client's transfers queues an event
// (cash_out_external_transfer at creation, then _approved, _scheduled,
// _execution_started, _finished, _failed, _cancelled, _rejected, _expired,
// and cash_in_external_transfer_refund), posted as {"encrypted_body": JWE}
// with the x-stone-webhook-event-id and -type headers: a JWT signed RS256 by
// the emulator's key (kid = its RFC 7638 thumbprint, published with an
// "enc" key at /api/v1/discovery/keys), encrypted RSA-OAEP-256/A256GCM to
// the client's registered key. Nothing is posted until DeliverWebhooks
// (synchronous, for tests) or RunWebhooks (a background loop, for
// cmd/stonesim); a non-2xx answer is retried after 1 s, 2 s, 4 s, … up to
// 1 h on the emulator's clock, 50 times at most, and
// Faults.DuplicateWebhookRate posts some delivered events twice. Posts happen
// outside the transfer lock, so a slow receiver never holds the API.
//
// Memory: each transfer keeps its request body, its current state, the
// status history and the replayable 202 body, about 2 KB.
package stonetest
