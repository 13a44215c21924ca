package stonetest

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"lote/stone"
	"lote/validate"
)

// Outbound Pix (pix/apis-stone/pagamento/*, stone-api.md §3.2). A payment
// is created (201, CREATED, the payee resolved: by key from the key
// directory, Server.AddPixKey, or by bank data at an institution that takes
// part in Pix), and waits, without expiring, until it is confirmed (204).
// PixReserveDelay later the money leaves the account (MONEY_RESERVED; FAILED
// with failure_reason_code "1" when the account is short, a choice: the
// documentation gives no Pix failure codes), and PixSettleDelay later it is
// SETTLED. A refund (Server.RefundPix, POST /_sim/pix/{id}/refund,
// Options.PixRefundRule) is a separate object that credits the account and
// adds to refunded_amount; the payment is REFUNDED once the whole amount is
// back and stays SETTLED after a partial refund (the documentation's list
// example shows a SETTLED payment with a refunded_amount; it says nothing
// of the status after a whole refund).

// PixKey is an entry of the emulator's DICT: the owner of a Pix key and the
// account it points to. ISPB "" means Stone; AccountCode, BranchCode and
// AccountType default to "1", "0001" and "CC". Stone shows the account only
// once the payment is settled.
type PixKey struct {
	Name        string `json:"name"`
	Document    string `json:"document"` // 11-digit CPF or 14-character CNPJ
	ISPB        string `json:"ispb"`
	BranchCode  string `json:"branch_code"`
	AccountCode string `json:"account_code"`
	AccountType string `json:"account_type"`
}

// AddPixKey puts key in the emulator's DICT. The key is stored as written
// (an e-mail in lower case); a key that is not valid in any Pix format is
// refused.
func (s *Server) AddPixKey(key string, k PixKey) error {
	norm, ok := pixKeyFormat(key)
	if !ok {
		return fmt.Errorf("stonetest: %q is not a valid Pix key (CPF, CNPJ, e-mail, +55 phone or random key)", key)
	}
	if k.ISPB == "" {
		k.ISPB = stoneISPB
	}
	if k.BranchCode == "" {
		k.BranchCode = "0001"
	}
	if k.AccountCode == "" {
		k.AccountCode = "1"
	}
	if k.AccountType == "" {
		k.AccountType = stone.AccountChecking
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pixKeys[norm] = k
	return nil
}

// FailPixToAccounts returns a PixFailRule that fails every Pix to one of
// the account numbers (by key or by bank data), as an account that does not
// exist at the receiving institution.
func FailPixToAccounts(accountCodes ...string) func(PixKey) (string, bool) {
	m := map[string]bool{}
	for _, c := range accountCodes {
		m[strings.TrimLeft(c, "0")] = true
	}
	return func(dest PixKey) (string, bool) {
		return "conta de destino inexistente", m[strings.TrimLeft(dest.AccountCode, "0")]
	}
}

// RefundPixByKey returns a PixRefundRule that refunds every Pix to one of
// the keys of amounts, by that many cents (0: the whole payment).
func RefundPixByKey(amounts map[string]int64) func(stone.PixPayment) (int64, bool) {
	m := make(map[string]int64, len(amounts))
	for k, v := range amounts {
		if norm, ok := pixKeyFormat(k); ok {
			m[norm] = v
		}
	}
	return func(p stone.PixPayment) (int64, bool) {
		if p.Key == nil {
			return 0, false
		}
		n, ok := m[*p.Key]
		if ok && (n <= 0 || n > p.Amount) {
			n = p.Amount
		}
		return n, ok
	}
}

// Formats of Pix keys (the Central Bank's DICT rules).
var (
	pixCPFRe   = regexp.MustCompile(`^\d{11}$`)
	pixCNPJRe  = regexp.MustCompile(`^[0-9A-Z]{12}\d{2}$`)
	pixPhoneRe = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)
	pixEmailRe = regexp.MustCompile(`^[a-z0-9.!#$&'*+/=?^_{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$`)
	pixEVPRe   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	txIDRe     = regexp.MustCompile(`^[a-zA-Z0-9]{1,35}$`)
	uuidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	pixBranch  = regexp.MustCompile(`^\d{4}$`)
	ispbRe     = regexp.MustCompile(`^\d{8}$`)
)

// pixKeyFormat reports whether key is a valid Pix key, and its stored form
// (an e-mail is case-insensitive and stored in lower case).
func pixKeyFormat(key string) (string, bool) {
	switch {
	case pixCPFRe.MatchString(key), pixCNPJRe.MatchString(key), pixPhoneRe.MatchString(key), pixEVPRe.MatchString(key):
		return key, true
	case len(key) <= 77 && pixEmailRe.MatchString(strings.ToLower(key)):
		return strings.ToLower(key), true
	}
	return "", false
}

// Pix limits (criar-pagamento-pendente).
const (
	maxPixAmount      = 1_000_000_000_000 // cents, exclusive
	maxPixKeyLen      = 77
	maxPixDescription = 140
)

// pixRecord is a stored outbound Pix.
type pixRecord struct {
	seq           uint64
	p             stone.PixPayment
	client        string
	key           string // the create's idempotency key
	confirmKey    string // the confirmation's, once confirmed
	request       []byte
	history       []StatusChange
	gen           int
	dest          PixKey
	refunds       []*stone.PixRefund
	pendingRefund int64
	confirmations int // confirmations that changed the payment (1 at most)
}

func (r *pixRecord) generation() int { return r.gen }

// pixOp is an item of an account's list of Pix operations.
type pixOp struct {
	seq    uint64
	pay    *pixRecord
	refund *stone.PixRefund
}

// pixRequest is a create body that passed validation.
type pixRequest struct {
	accountID     string
	amount        int64
	description   string
	key           string
	transactionID string
	scheduledTo   string
	target        *stone.PixParty
	hash          [32]byte
}

// parsePix validates a create body, collecting every failure with its
// path, with the messages of the documentation's 400 example.
func (s *Server) parsePix(body []byte, now time.Time) (pixRequest, reasons) {
	var rs reasons
	var w struct {
		AccountID     json.RawMessage `json:"account_id"`
		Amount        json.RawMessage `json:"amount"`
		Description   json.RawMessage `json:"description"`
		Key           json.RawMessage `json:"key"`
		TransactionID json.RawMessage `json:"transaction_id"`
		ScheduledTo   json.RawMessage `json:"scheduled_to"`
		Target        *struct {
			Entity struct {
				Name     json.RawMessage `json:"name"`
				Document json.RawMessage `json:"document"`
			} `json:"entity"`
			Account struct {
				AccountCode json.RawMessage `json:"account_code"`
				AccountType json.RawMessage `json:"account_type"`
				BranchCode  json.RawMessage `json:"branch_code"`
			} `json:"account"`
			Institution struct {
				ISPB json.RawMessage `json:"ispb"`
			} `json:"institution"`
		} `json:"target"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		rs.add("body is not a valid JSON object: " + err.Error())
		return pixRequest{}, rs
	}
	var c pixRequest
	if c.accountID = rs.required(w.AccountID, "account_id"); c.accountID != "" && !uuidRe.MatchString(c.accountID) && s.accounts[c.accountID] == nil {
		rs.add("is invalid", "account_id")
	}
	c.amount = pixAmount(&rs, w.Amount, true)
	if c.description = rs.str(w.Description, "description"); len([]rune(c.description)) > maxPixDescription {
		rs.add("is invalid", "description")
	}
	if c.key = rs.str(w.Key, "key"); len([]rune(c.key)) > maxPixKeyLen {
		rs.add("should be at most 77 characters", "key")
	}
	if c.transactionID = rs.str(w.TransactionID, "transaction_id"); c.transactionID != "" {
		if !txIDRe.MatchString(c.transactionID) {
			rs.add("is invalid", "transaction_id")
		}
		if c.key == "" {
			rs.add("can't be blank on transaction_id presence", "key")
		}
	}
	if c.scheduledTo = rs.str(w.ScheduledTo, "scheduled_to"); c.scheduledTo != "" {
		if d, ok := parseDate(c.scheduledTo); !ok {
			rs.add("is invalid", "scheduled_to")
		} else if d.After(civilDate(now).AddDate(1, 0, 0)) {
			rs.add("exceeded one year limit", "scheduled_to")
		}
	}
	switch {
	case c.key == "" && w.Target == nil:
		rs.add("can't be blank", "target")
	case c.key == "":
		t := w.Target
		c.target = &stone.PixParty{Account: &stone.PixAccount{}}
		c.target.Entity.Name = strings.TrimSpace(rs.required(t.Entity.Name, "target", "entity", "name"))
		if doc := rs.required(t.Entity.Document, "target", "entity", "document"); doc != "" {
			switch {
			case cpfRe.MatchString(doc):
				c.target.Entity.DocumentType = "cpf"
			case cnpjRe.MatchString(doc):
				c.target.Entity.DocumentType = "cnpj"
			default:
				rs.add("is invalid", "target", "entity", "document")
			}
			c.target.Entity.Document = doc
		}
		acc := c.target.Account
		if acc.AccountCode = rs.required(t.Account.AccountCode, "target", "account", "account_code"); acc.AccountCode != "" && !accountCodeRe.MatchString(acc.AccountCode) {
			rs.add("is invalid", "target", "account", "account_code")
		}
		if acc.BranchCode = rs.required(t.Account.BranchCode, "target", "account", "branch_code"); acc.BranchCode != "" && !pixBranch.MatchString(acc.BranchCode) {
			rs.add("is invalid", "target", "account", "branch_code")
		}
		switch acc.AccountType = rs.required(t.Account.AccountType, "target", "account", "account_type"); acc.AccountType {
		case "", stone.AccountPayment, stone.AccountSavings, stone.AccountChecking:
		default:
			rs.add("is invalid", "target", "account", "account_type")
		}
		if c.target.Institution.ISPB = rs.required(t.Institution.ISPB, "target", "institution", "ispb"); c.target.Institution.ISPB != "" && !ispbRe.MatchString(c.target.Institution.ISPB) {
			rs.add("is invalid", "target", "institution", "ispb")
		}
	}
	if len(rs) > 0 {
		return pixRequest{}, rs
	}
	c.hash = canonicalHash(body)
	return c, nil
}

// pixAmount reads an optional amount: an integer from 0 to under
// 1,000,000,000,000 cents.
func pixAmount(rs *reasons, raw json.RawMessage, optional bool) int64 {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		if !optional {
			rs.add("can't be blank", "amount")
		}
		return 0
	}
	if !isJSONInteger(raw) {
		rs.add("is invalid", "amount")
		return 0
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	switch {
	case err != nil && raw[0] == '-', err == nil && n < 0:
		rs.add("must be greater than or equal to 0", "amount")
	case err != nil || n >= maxPixAmount:
		rs.add("must be less than 1_000_000_000_000", "amount")
	default:
		return n
	}
	return 0
}

// maskCPF hides a CPF as Stone shows a Pix payee's: its middle six digits
// ("***369163**"). A CNPJ is shown whole (criar-pagamento-pendente).
func maskCPF(doc string) string {
	if len(doc) != 11 {
		return doc
	}
	return "***" + doc[3:9] + "**"
}

// resolvePix finds the payee of a create: the key's owner, or the bank
// data's institution. It answers 422 and returns false when it cannot.
// Callers hold s.mu.
func (s *Server) resolvePix(w http.ResponseWriter, c *pixRequest) (PixKey, stone.PixParty, bool) {
	if c.key != "" {
		norm, ok := pixKeyFormat(c.key)
		if !ok {
			writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeInvalidKey})
			return PixKey{}, stone.PixParty{}, false
		}
		c.key = norm
		k, found := s.pixKeys[norm]
		if !found {
			writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeKeyNotFound})
			return PixKey{}, stone.PixParty{}, false
		}
		party := stone.PixParty{Entity: stone.PixEntity{Name: k.Name, Document: k.Document, DocumentType: docType(k.Document)},
			Institution: stone.PixInstitution{ISPB: k.ISPB, Name: s.institutionName(k.ISPB)}}
		if party.Entity.DocumentType == "cpf" {
			party.Entity.Document = maskCPF(k.Document)
		}
		return k, party, true
	}
	t := *c.target
	ispb := t.Institution.ISPB
	if _, ok := validate.PixParticipant(ispb); !ok {
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeTargetInstitutionNotFound})
		return PixKey{}, stone.PixParty{}, false
	}
	if ispb == stoneISPB {
		if _, found := s.stoneAccounts[strings.TrimLeft(t.Account.AccountCode, "0")]; !found {
			writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeTargetAccountNotFound})
			return PixKey{}, stone.PixParty{}, false
		}
	}
	acc := *t.Account
	t.Account = &acc
	t.Institution.Name = s.institutionName(ispb)
	dest := PixKey{Name: t.Entity.Name, Document: t.Entity.Document, ISPB: ispb,
		BranchCode: acc.BranchCode, AccountCode: acc.AccountCode, AccountType: acc.AccountType}
	return dest, t, true
}

func docType(doc string) string {
	if len(doc) == 11 {
		return "cpf"
	}
	return "cnpj"
}

// institutionName is the name Stone's answers give an ISPB.
func (s *Server) institutionName(ispb string) string {
	if ispb == stoneISPB {
		return stoneName
	}
	if _, _, name, ok := s.opts.Institutions(ispb); ok {
		return name
	}
	if in, ok := validate.Institutions().Lookup(ispb); ok {
		return in.LongName
	}
	return ""
}

// endToEndID makes a Pix end-to-end id as the documentation's examples
// show them: E, Stone's ISPB, the minute (UTC), 11 hexadecimal characters.
func (s *Server) endToEndID(prefix string, now time.Time) string {
	u := strings.ReplaceAll(s.newUUID(), "-", "")
	return prefix + stoneISPB + now.UTC().Format("200601021504") + u[:11]
}

// handlePixCreate is POST /api/v1/pix/outbound_pix_payments (201).
func (s *Server) handlePixCreate(w http.ResponseWriter, r *http.Request, client string) {
	now := s.Now()
	key := r.Header.Get("x-stone-idempotency-key")
	if tooLongKey(w, key) {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	c, rs := s.parsePix(body, now)
	s.mu.Unlock()
	if strings.TrimSpace(key) == "" {
		// The header is required for a Pix (criar-pagamento-pendente).
		rs.add("can't be blank", "idempotency_key")
	}
	if len(rs) > 0 {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation, Reason: rs})
		return
	}
	if _, ok := s.lockAccount(w, client, c.accountID); !ok {
		return
	}
	dest, target, ok := s.resolvePix(w, &c)
	s.mu.Unlock()
	if !ok {
		return
	}
	entry, answered := s.claimKey(w, client, "pix_create", key, c.hash, now)
	if answered {
		return
	}
	if s.opts.InFlight != nil {
		s.opts.InFlight(r)
	}
	by := "application:" + client
	p := stone.PixPayment{
		ID:          s.newUUID(),
		AccountID:   c.accountID,
		Amount:      c.amount,
		Status:      stone.PixCreated,
		Description: c.description,
		EndToEndID:  s.endToEndID("E", now),
		RequestID:   w.Header().Get("x-request-id"),
		CreatedAt:   stamp(now),
		CreatedBy:   ptr(by),
		Target:      target,
	}
	if c.key != "" {
		p.Key = ptr(c.key)
	}
	if c.transactionID != "" {
		p.TransactionID = ptr(c.transactionID)
	}
	if c.scheduledTo != "" {
		p.ScheduledTo = ptr(c.scheduledTo)
	}
	s.mu.Lock()
	p.Source = s.sourceParty(s.accounts[c.accountID])
	s.seq++
	rec := &pixRecord{seq: s.seq, p: p, client: client, key: key, request: body, dest: dest}
	rec.history = []StatusChange{{Status: p.Status, At: *p.CreatedAt}}
	s.pix[p.ID] = rec
	s.pixAll = append(s.pixAll, rec)
	s.pixOps[c.accountID] = append(s.pixOps[c.accountID], pixOp{seq: rec.seq, pay: rec})
	resp, err := json.Marshal(rec.p)
	entry.done, entry.body, entry.status = true, resp, http.StatusCreated
	s.mu.Unlock()
	s.answerCreated(w, http.StatusCreated, resp, err)
}

// sourceParty is the paying side of a Pix: the account at Stone and its
// holder (SetAccountHolder). Callers hold s.mu.
func (s *Server) sourceParty(a *account) stone.PixParty {
	code := a.code
	if code == "" {
		code = "1"
	}
	return stone.PixParty{
		Account:     &stone.PixAccount{AccountCode: code, AccountType: stone.AccountPayment, BranchCode: "0001"},
		Entity:      stone.PixEntity{Name: a.holder.Name, Document: a.holder.Document, DocumentType: docTypeOrEmpty(a.holder.Document)},
		Institution: stone.PixInstitution{ISPB: stoneISPB, Name: stoneName},
	}
}

func docTypeOrEmpty(doc string) string {
	if doc == "" {
		return ""
	}
	return docType(doc)
}

// SetAccountHolder sets the number and the holder of a paying account, as a
// Pix's source shows them; without it they are "1" and blank.
func (s *Server) SetAccountHolder(accountID, accountCode string, holder StoneAccount) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[accountID]; a != nil {
		a.code, a.holder = accountCode, holder
	}
}

// handlePixRead serves GET /api/v1/pix/outbound_pix_payments/{id} and
// GET /api/v1/pix/{account_id}/pix_payments.
func (s *Server) handlePixRead(w http.ResponseWriter, r *http.Request, client string) {
	a, b := r.PathValue("a"), r.PathValue("b")
	switch {
	case a == "outbound_pix_payments":
		s.handlePixGet(w, b, client)
	case b == "pix_payments":
		s.handlePixList(w, r, a, client)
	default:
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
	}
}

// lookupPix finds a Pix the client may see. Callers hold s.mu.
func (s *Server) lookupPix(client, id string) *pixRecord {
	rec := s.pix[id]
	if rec == nil || !s.canUse(client, s.accounts[rec.p.AccountID]) {
		return nil
	}
	return rec
}

// handlePixGet answers a Pix by id: 400 with no body when the id is not a
// UUID, as documented, 404 when there is none.
func (s *Server) handlePixGet(w http.ResponseWriter, id, client string) {
	if !uuidRe.MatchString(id) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	serveFound(s, w, func() *pixRecord { return s.lookupPix(client, id) },
		func(rec *pixRecord) stone.PixPayment { return rec.p })
}

// handlePixConfirm is POST /api/v1/pix/outbound_pix_payments/{id}/actions/confirm
// (204). The idempotency key is required; a replay with the same key and
// body answers 204 again without confirming twice. A payment no longer
// CREATED is refused with 422 srn:error:already_confirmed (the type is in
// Stone's list of errors; the page does not say when it is sent).
func (s *Server) handlePixConfirm(w http.ResponseWriter, r *http.Request, client string) {
	now := s.Now()
	id := r.PathValue("id")
	if !uuidRe.MatchString(id) {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	key := r.Header.Get("x-stone-idempotency-key")
	if tooLongKey(w, key) {
		return
	}
	if f := s.Faults(); f.PixConfirmUnavailableRate > 0 && s.chance(f.PixConfirmUnavailableRate) {
		writeError(w, http.StatusServiceUnavailable, stone.ErrorBody{Type: "srn:error:service_unavailable"})
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var rs reasons
	var in struct {
		Amount              json.RawMessage `json:"amount"`
		Description         json.RawMessage `json:"description"`
		AddTargetToContacts json.RawMessage `json:"add_target_to_contacts"`
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			rs.add("body is not a valid JSON object: " + err.Error())
		}
	}
	amount := pixAmount(&rs, in.Amount, true)
	description := rs.str(in.Description, "description")
	if len([]rune(description)) > maxPixDescription {
		rs.add("is invalid", "description")
	}
	if strings.TrimSpace(key) == "" {
		rs.add("can't be blank", "idempotency_key")
	}
	s.mu.Lock()
	rec := s.lookupPix(client, id)
	if rec != nil && rec.p.Amount == 0 && amount == 0 {
		rs.add("can't be blank", "amount")
	}
	s.mu.Unlock()
	if len(rs) > 0 {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation, Reason: rs})
		return
	}
	if rec == nil {
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
		return
	}
	// The key stands for this confirmation of this payment: the same key
	// on another payment is another body.
	bodyHash := canonicalHash(body)
	hash := sha256.Sum256(append([]byte(id+"\x00"), bodyHash[:]...))
	entry, answered := s.claimKey(w, client, "pix_confirm", key, hash, now)
	if answered {
		return
	}
	if s.opts.InFlight != nil {
		s.opts.InFlight(r)
	}
	s.mu.Lock()
	if rec.p.Status != stone.PixCreated {
		s.releaseKey(client, "pix_confirm", key)
		status := rec.p.Status
		s.mu.Unlock()
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeAlreadyConfirmed, Title: "payment is " + status})
		return
	}
	by := "application:" + client
	if amount > 0 {
		rec.p.Amount = amount
	}
	if description != "" {
		rec.p.Description = description
	}
	rec.p.ApprovedAt, rec.p.ApprovedBy = stamp(now), ptr(by)
	rec.p.ConfirmedAt, rec.p.ConfirmedBy = stamp(now), ptr(by)
	rec.confirmKey = key
	rec.confirmations++
	at := now.Add(s.opts.PixReserveDelay)
	if rec.p.ScheduledTo != nil {
		if d, _ := parseDate(*rec.p.ScheduledTo); d.After(civilDate(now)) {
			at = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, brasilia)
			s.setPixStatus(rec, stone.PixScheduled, now)
		}
	}
	if rec.p.Status == stone.PixCreated {
		s.setPixStatus(rec, stone.PixConfirmed, now)
	}
	// Stone's example of pix_outbound_payment_created is sent at the
	// confirmation: it happened at created_at, is notified at
	// confirmed_at, and shows the payment CONFIRMED.
	s.notifyPixAt(rec, stone.EventPixCreated, *rec.p.CreatedAt, now)
	s.scheduleStep(rec, at, evPixReserve)
	entry.done, entry.status = true, http.StatusNoContent
	s.mu.Unlock()
	if s.dropNow() {
		drop(w.(*recorder))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Transitions of a Pix on the emulator's clock.
const (
	evPixReserve eventKind = 100 + iota // the account pays: MONEY_RESERVED or FAILED
	evPixSettle                         // SETTLED
	evPixRefund                         // a refund by PixRefundRule
)

// step applies one transition of the Pix. Callers hold s.mu.
func (rec *pixRecord) step(s *Server, kind eventKind, at time.Time) {
	switch kind {
	case evPixReserve:
		if s.opts.PixFailRule != nil {
			if why, ok := s.opts.PixFailRule(rec.dest); ok {
				rec.p.Fee = 0
				rec.p.FailedAt = stamp(at)
				rec.p.FailureReasonCode = ptr(stone.StringCode("0"))
				rec.p.FailureReasonDescription = ptr(why)
				s.setPixStatus(rec, stone.PixFailed, at)
				return
			}
		}
		a := s.accounts[rec.p.AccountID]
		need := rec.p.Amount + rec.p.Fee
		if a == nil || a.balance < need {
			rec.p.Fee = 0
			rec.p.FailedAt = stamp(at)
			rec.p.FailureReasonCode = ptr(stone.StringCode(failureInsufficientBalance))
			rec.p.FailureReasonDescription = ptr(failureInsufficientDescription)
			s.setPixStatus(rec, stone.PixFailed, at)
			return
		}
		s.addStatementEntry(a, stone.StatementInstantPayment, -need, rec.p.Amount, rec.p.Fee, rec.p.ID, pixCounterParty(rec.dest, rec.p.Target), at)
		rec.p.MoneyReservedAt = stamp(at)
		s.setPixStatus(rec, stone.PixMoneyReserved, at)
		s.scheduleStep(rec, at.Add(s.opts.PixSettleDelay), evPixSettle)
	case evPixSettle:
		rec.p.SettledAt = stamp(at)
		// The target's account is shown once the payment is settled
		// (consultar-pagamento).
		rec.p.Target.Account = &stone.PixAccount{AccountCode: rec.dest.AccountCode, AccountType: rec.dest.AccountType, BranchCode: rec.dest.BranchCode}
		s.setPixStatus(rec, stone.PixSettled, at)
		if s.opts.PixRefundRule != nil {
			if n, ok := s.opts.PixRefundRule(rec.p); ok && n > 0 {
				rec.pendingRefund = n
				s.scheduleStep(rec, at.Add(s.opts.RefundDelay), evPixRefund)
			}
		}
	case evPixRefund:
		if rec.pendingRefund > 0 {
			s.refundPix(rec, rec.pendingRefund, at)
			rec.pendingRefund = 0
		}
	}
}

func pixCounterParty(dest PixKey, t stone.PixParty) *stone.StatementCounterParty {
	cp := &stone.StatementCounterParty{}
	cp.Account.AccountCode = dest.AccountCode
	cp.Account.BranchCode = dest.BranchCode
	cp.Account.Institution = t.Institution.ISPB
	cp.Account.InstitutionName = t.Institution.Name
	cp.Entity.Name = t.Entity.Name
	return cp
}

// setPixStatus changes a Pix's status, records it and sends the webhook
// Stone documents for it. Callers hold s.mu.
func (s *Server) setPixStatus(rec *pixRecord, status string, at time.Time) {
	rec.p.Status = status
	rec.history = append(rec.history, StatusChange{Status: status, At: *stamp(at)})
	switch status {
	case stone.PixMoneyReserved:
		s.notifyPix(rec, stone.EventPixMoneyReserved, at)
	case stone.PixFailed:
		s.notifyPix(rec, stone.EventPixFailed, at)
	case stone.PixSettled:
		s.notifyPix(rec, stone.EventPixSettled, at)
	}
}

// notifyPix queues a webhook about rec as it is now, with the
// target_detail_uri of the documented examples. Callers hold s.mu.
func (s *Server) notifyPix(rec *pixRecord, eventType string, at time.Time) {
	s.notifyPixAt(rec, eventType, at, at)
}

// notifyPixAt is notifyPix for an event that happened before it is sent.
// The webhooks' target_data shows the target's account even before the
// payment settles, as Stone's examples do. Callers hold s.mu.
func (s *Server) notifyPixAt(rec *pixRecord, eventType string, happened, due time.Time) {
	p := rec.p
	p.Target.Account = &stone.PixAccount{AccountCode: rec.dest.AccountCode, AccountType: rec.dest.AccountType, BranchCode: rec.dest.BranchCode}
	s.notifyResource(rec.client, p.ID, eventType, happened, due, p, "/api/v1/outbound_pix_payments/"+p.ID)
}

// ErrPixRefund is returned by RefundPix for a payment that cannot be
// refunded by that amount.
var ErrPixRefund = errors.New("stonetest: Pix cannot be refunded")

// RefundPix makes the receiving bank return amount cents of the settled Pix
// id (0: all that is left), as a separate refund object: the account is
// credited, refunded_amount grows, and the payment becomes REFUNDED once
// all of it is back. It can be called several times (partial refunds).
func (s *Server) RefundPix(id string, amount int64) (stone.PixRefund, error) {
	s.settle(s.Now())
	now := s.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.pix[id]
	if rec == nil {
		return stone.PixRefund{}, fmt.Errorf("%w %s", ErrNoTransfer, id)
	}
	left := rec.p.Amount - rec.p.RefundedAmount
	if amount == 0 {
		amount = left
	}
	if (rec.p.Status != stone.PixSettled && rec.p.Status != stone.PixRefunded) || amount <= 0 || amount > left {
		return stone.PixRefund{}, fmt.Errorf("%w: it is %s with %d of %d cents refunded; asked %d", ErrPixRefund, rec.p.Status, rec.p.RefundedAmount, rec.p.Amount, amount)
	}
	return *s.refundPix(rec, amount, now), nil
}

// refundPix records a refund of amount cents. Callers hold s.mu.
func (s *Server) refundPix(rec *pixRecord, amount int64, at time.Time) *stone.PixRefund {
	amount = min(amount, rec.p.Amount-rec.p.RefundedAmount)
	if amount <= 0 {
		return &stone.PixRefund{}
	}
	rid := strings.ReplaceAll(s.newUUID(), "-", "")
	f := &stone.PixRefund{
		ID:                      s.newUUID(),
		AccountID:               rec.p.AccountID,
		Amount:                  amount,
		Status:                  stone.PixSettled,
		Type:                    stone.PixTypeRefundForOutbound,
		OutboundPixPaymentID:    rec.p.ID,
		ReturnID:                s.endToEndID("D", at),
		RefundReason:            "beneficiary_request",
		RefundReasonCode:        "2",
		RefundReasonDescription: "A pessoa que recebeu seu Pix devolveu o valor",
		RequestID:               rid,
		CreatedAt:               stamp(at),
		SettledAt:               stamp(at),
	}
	rec.refunds = append(rec.refunds, f)
	rec.p.RefundedAmount += amount
	if a := s.accounts[rec.p.AccountID]; a != nil {
		s.addStatementEntry(a, stone.StatementInstantPayment, amount, amount, 0, rec.p.ID, pixCounterParty(rec.dest, rec.p.Target), at)
	}
	s.seq++
	s.pixOps[rec.p.AccountID] = append(s.pixOps[rec.p.AccountID], pixOp{seq: s.seq, refund: f})
	if rec.p.RefundedAmount == rec.p.Amount {
		rec.p.Status = stone.PixRefunded
		rec.history = append(rec.history, StatusChange{Status: stone.PixRefunded, At: *stamp(at)})
	}
	s.notifyPix(rec, stone.EventPixRefunded, at)
	return f
}

// handlePixList is GET /api/v1/pix/{account_id}/pix_payments: the account's
// outbound payments and their refunds, newest first, each with its type,
// filtered by end_to_end_ids, transaction_ids or keys (comma-separated or
// repeated). Inbound payments are not emulated.
func (s *Server) handlePixList(w http.ResponseWriter, r *http.Request, accountID, client string) {
	if s.opts.DirectParticipant {
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeNotIndirectParticipant})
		return
	}
	q := r.URL.Query()
	pq, ok := parsePageQuery(w, q)
	if !ok {
		return
	}
	filter := func(name string) map[string]bool {
		var m map[string]bool
		for _, v := range q[name] {
			for _, x := range strings.Split(v, ",") {
				if x = strings.TrimSpace(x); x != "" {
					if m == nil {
						m = map[string]bool{}
					}
					m[x] = true
				}
			}
		}
		return m
	}
	e2e, txs, keys := filter("end_to_end_ids"), filter("transaction_ids"), filter("keys")
	if _, ok := s.lockAccount(w, client, accountID); !ok {
		return
	}
	var ops []pixOp
	for _, op := range s.pixOps[accountID] {
		p := op.pay
		if op.refund != nil {
			p = s.pix[op.refund.OutboundPixPaymentID]
		}
		switch {
		case e2e != nil && !e2e[p.p.EndToEndID] && (op.refund == nil || !e2e[op.refund.ReturnID]):
		case txs != nil && (p.p.TransactionID == nil || !txs[*p.p.TransactionID]):
		case keys != nil && (p.p.Key == nil || !keys[*p.p.Key]):
		default:
			ops = append(ops, op)
		}
	}
	type typedPayment struct {
		stone.PixPayment
		Type string `json:"type"`
	}
	page := pageOf(pq, ops, func(op pixOp) uint64 { return op.seq }, func(op pixOp) any {
		if op.refund != nil {
			return *op.refund
		}
		return typedPayment{op.pay.p, stone.PixTypeOutboundPayment}
	})
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, page)
}

// PixRecord is an outbound Pix as the emulator stored it, for tests.
type PixRecord struct {
	Payment    stone.PixPayment  `json:"payment"`     // as it is now
	Refunds    []stone.PixRefund `json:"refunds"`     // oldest first
	ClientID   string            `json:"client_id"`   // the application that created it
	CreateKey  string            `json:"create_key"`  // the create's idempotency key
	ConfirmKey string            `json:"confirm_key"` // the confirmation's; "" until confirmed
	Request    json.RawMessage   `json:"request"`     // the create body as received
	History    []StatusChange    `json:"history"`
	// Confirmations counts the confirmations that changed the payment: 0
	// or 1, however many times a confirm was replayed.
	Confirmations int `json:"confirmations"`
}

func (rec *pixRecord) export() PixRecord {
	out := PixRecord{Payment: rec.p, ClientID: rec.client, CreateKey: rec.key, ConfirmKey: rec.confirmKey,
		Request: slices.Clone(rec.request), History: slices.Clone(rec.history), Confirmations: rec.confirmations}
	for _, f := range rec.refunds {
		out.Refunds = append(out.Refunds, *f)
	}
	return out
}

// PixPayments returns every Pix created, in creation order, after applying
// the transitions due by the emulator's clock.
func (s *Server) PixPayments() []PixRecord {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PixRecord, len(s.pixAll))
	for i, rec := range s.pixAll {
		out[i] = rec.export()
	}
	return out
}

// Pix returns the Pix with an id.
func (s *Server) Pix(id string) (PixRecord, bool) {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.pix[id]
	if rec == nil {
		return PixRecord{}, false
	}
	return rec.export(), true
}

// InternalRecord is an internal transfer as the emulator stored it.
type InternalRecord struct {
	Transfer       stone.InternalTransfer `json:"transfer"`
	AccountID      string                 `json:"account_id"`
	ClientID       string                 `json:"client_id"`
	IdempotencyKey string                 `json:"idempotency_key"`
	Request        json.RawMessage        `json:"request"`
	History        []StatusChange         `json:"history"`
}

// InternalTransfers returns every internal transfer created, in creation
// order, after applying the transitions due by the emulator's clock.
func (s *Server) InternalTransfers() []InternalRecord {
	s.settle(s.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]InternalRecord, len(s.internalAll))
	for i, rec := range s.internalAll {
		out[i] = InternalRecord{Transfer: rec.t, AccountID: rec.accountID, ClientID: rec.client, IdempotencyKey: rec.key,
			Request: slices.Clone(rec.request), History: slices.Clone(rec.history)}
	}
	return out
}
