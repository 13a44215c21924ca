package stonetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"regexp"
	"strings"

	"lote/stone"
)

// Limits of the amount field, in cents (stone-api.md §2.1, §2.2).
const (
	maxAmount      = 999999999999999999
	maxAmountInt32 = 2147483647
)

// maxIdempotencyKey is the longest idempotency key Stone accepts; longer
// keys get 431 (stone-api.md §5).
const maxIdempotencyKey = 72

// Patterns of the create body (stone-api.md §2.1).
var (
	accountCodeRe = regexp.MustCompile(`^[1-9]\d{1,19}$`)
	branchCodeRe  = regexp.MustCompile(`^\d{1,4}$`)
	institutionRe = regexp.MustCompile(`^(\d{8}|\d{3})$`)
	cpfRe         = regexp.MustCompile(`^\d{11}$`)
	cnpjRe        = regexp.MustCompile(`^[0-9A-Z]{12}\d{2}$`) // numeric or alphanumeric CNPJ
)

// createRequest is a create body that passed validation, with Stone's
// normalisations applied.
type createRequest struct {
	amount       int64
	accountID    string
	accountCode  string // leading zeros stripped
	branchCode   string // "" when absent or removed by the account-type rules
	institution  string // as sent
	accountType  string // effective type
	echoType     string // what the response shows ("" to omit)
	name         string
	document     string
	documentType string // lower case
	scheduledTo  string
	description  string
	hash         [32]byte // of the canonical body, for idempotency
}

// wireCreate decodes leaves as raw JSON so that a value of the wrong type is
// reported against its path instead of failing the whole body.
type wireCreate struct {
	Amount    json.RawMessage `json:"amount"`
	AccountID json.RawMessage `json:"account_id"`
	Target    struct {
		Account struct {
			AccountCode     json.RawMessage `json:"account_code"`
			BranchCode      json.RawMessage `json:"branch_code"`
			InstitutionCode json.RawMessage `json:"institution_code"`
			AccountType     json.RawMessage `json:"account_type"`
		} `json:"account"`
		Entity struct {
			Name         json.RawMessage `json:"name"`
			Document     json.RawMessage `json:"document"`
			DocumentType json.RawMessage `json:"document_type"`
			CPF          json.RawMessage `json:"cpf"`
		} `json:"entity"`
	} `json:"target"`
	ScheduledTo json.RawMessage `json:"scheduled_to"`
	Description json.RawMessage `json:"description"`
}

// reasons collects cumulative validation failures.
type reasons []stone.ErrorReason

func (rs *reasons) add(msg string, path ...string) {
	*rs = append(*rs, stone.ErrorReason{Error: msg, Path: path})
}

// str reads an optional string leaf: absent and null read as "".
func (rs *reasons) str(raw json.RawMessage, path ...string) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		rs.add("must be a string", path...)
		return ""
	}
	return v
}

// required reads a string leaf that must be present and not blank.
func (rs *reasons) required(raw json.RawMessage, path ...string) string {
	n := len(*rs)
	v := rs.str(raw, path...)
	if len(*rs) == n && strings.TrimSpace(v) == "" {
		rs.add("can't be blank", path...)
	}
	return v
}

// parseCreate validates a create body as Stone does (stone-api.md §2.1):
// every failure is collected, with its JSON path.
func (s *Server) parseCreate(body []byte) (createRequest, reasons) {
	var rs reasons
	var w wireCreate
	if err := json.Unmarshal(body, &w); err != nil {
		rs.add("body is not a valid JSON object: " + err.Error())
		return createRequest{}, rs
	}
	var c createRequest

	c.amount = s.amount(&rs, w.Amount)

	c.accountID = rs.required(w.AccountID, "account_id")

	acc := &w.Target.Account
	if code := rs.required(acc.AccountCode, "target", "account", "account_code"); code != "" {
		// Stone strips leading zeros and stores the rest (stone-api.md §2.1).
		c.accountCode = strings.TrimLeft(code, "0")
		if !accountCodeRe.MatchString(c.accountCode) {
			rs.add("is invalid", "target", "account", "account_code")
		}
	}
	c.branchCode = rs.str(acc.BranchCode, "target", "account", "branch_code")
	if c.branchCode != "" && !branchCodeRe.MatchString(c.branchCode) {
		rs.add("is invalid", "target", "account", "branch_code")
	}
	if c.institution = rs.required(acc.InstitutionCode, "target", "account", "institution_code"); c.institution != "" && !institutionRe.MatchString(c.institution) {
		rs.add("is invalid", "target", "account", "institution_code")
	}
	c.accountType = rs.str(acc.AccountType, "target", "account", "account_type")
	switch c.accountType {
	case "", stone.AccountChecking, stone.AccountDeposit, stone.AccountGuarantee, stone.AccountPayment, stone.AccountSavings:
	default:
		rs.add("is invalid", "target", "account", "account_type")
	}

	ent := &w.Target.Entity
	c.name = strings.TrimSpace(rs.required(ent.Name, "target", "entity", "name"))
	// Old payloads sent entity.cpf instead of document (stone-api.md §2.1).
	docRaw := ent.Document
	if len(docRaw) == 0 || string(docRaw) == "null" {
		docRaw = ent.CPF
	}
	if c.document = rs.required(docRaw, "target", "entity", "document"); c.document != "" {
		// Stone's docs do not say it checks the check digits, so it does not.
		switch {
		case cpfRe.MatchString(c.document):
			c.documentType = "cpf"
		case cnpjRe.MatchString(c.document):
			c.documentType = "cnpj"
		default:
			rs.add("is invalid", "target", "entity", "document")
		}
	}
	if dt := strings.ToLower(rs.str(ent.DocumentType, "target", "entity", "document_type")); dt != "" {
		if (dt != "cpf" && dt != "cnpj") || (c.documentType != "" && dt != c.documentType) {
			rs.add("is invalid", "target", "entity", "document_type")
		}
	}

	if c.scheduledTo = rs.str(w.ScheduledTo, "scheduled_to"); c.scheduledTo != "" {
		if _, ok := parseDate(c.scheduledTo); !ok {
			rs.add("is invalid", "scheduled_to")
		}
	}
	c.description = rs.str(w.Description, "description")

	if len(rs) > 0 {
		return createRequest{}, rs
	}
	c.applyAccountTypeRules()
	c.hash = canonicalHash(body)
	return c, nil
}

// applyAccountTypeRules applies Stone's server-side account-type rules
// (stone-api.md §2.1): PG has no branch; a checking or untyped account with
// more than 13 digits, or without a branch, is a payment account; an
// untyped account with a branch is a checking account.
func (c *createRequest) applyAccountTypeRules() {
	c.echoType = c.accountType
	switch {
	case c.accountType == stone.AccountPayment:
		c.branchCode = ""
	case (c.accountType == "" || c.accountType == stone.AccountChecking) && len(c.accountCode) > 13:
		c.accountType, c.echoType, c.branchCode = stone.AccountPayment, stone.AccountPayment, ""
	case (c.accountType == "" || c.accountType == stone.AccountChecking) && c.branchCode == "":
		c.accountType, c.echoType = stone.AccountPayment, stone.AccountPayment
	case c.accountType == "":
		// Stone's documented example does not echo the defaulted type.
		c.accountType = stone.AccountChecking
	}
}

// isJSONInteger reports whether a JSON value is a number with no fraction
// or exponent.
func isJSONInteger(raw []byte) bool {
	i := 0
	if raw[0] == '-' {
		i++
	}
	if i == len(raw) {
		return false
	}
	for ; i < len(raw); i++ {
		if raw[i] < '0' || raw[i] > '9' {
			return false
		}
	}
	return true
}

// canonicalHash hashes a JSON body independently of key order and spacing,
// so that a retry re-encoded by another library still counts as the same
// body for idempotency.
func canonicalHash(body []byte) [32]byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err == nil {
		if b, err := json.Marshal(v); err == nil {
			body = b
		}
	}
	return sha256.Sum256(body)
}
