package stonetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"lote/stone"
)

// handleReceipt is POST /api/v1/receipts (stone-api.md §2.5, the
// documentation's "Como emitir um comprovante"): the PDF receipt of an
// operation in a successful state (approved, scheduled, delayed, finished).
// The emulator knows only external transfers: another documented
// resource_type is a valid request about an operation it does not have
// (404); an unknown one is 400.
func (s *Server) handleReceipt(w http.ResponseWriter, r *http.Request, client string) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var req stone.ReceiptRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: "srn:error:bad_request", Title: "body is not JSON"})
		return
	}
	var reasons []stone.ErrorReason
	switch req.ResourceType {
	case stone.ReceiptExternalTransfer, stone.ReceiptInternalTransfer, stone.ReceiptPayment, "statement", stone.ReceiptPixPayment:
	case "":
		reasons = append(reasons, stone.ErrorReason{Error: "can't be blank", Path: []string{"resource_type"}})
	default:
		reasons = append(reasons, stone.ErrorReason{Error: "is invalid", Path: []string{"resource_type"}})
	}
	if req.ResourceID == "" {
		reasons = append(reasons, stone.ErrorReason{Error: "can't be blank", Path: []string{"resource_id"}})
	}
	if len(reasons) > 0 {
		writeError(w, http.StatusBadRequest, stone.ErrorBody{Type: stone.ErrTypeValidation, Reason: reasons})
		return
	}
	switch req.ResourceType {
	case stone.ReceiptInternalTransfer, stone.ReceiptPixPayment:
		s.otherReceipt(w, client, req)
		return
	case stone.ReceiptExternalTransfer:
	default:
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
		return
	}
	s.mu.Lock()
	rec := s.lookup(client, req.ResourceID)
	var t stone.Transfer
	if rec != nil {
		t = rec.t
	}
	s.mu.Unlock()
	if rec == nil {
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
		return
	}
	switch t.Status {
	case stone.StatusApproved, stone.StatusScheduled, stone.StatusDelayedToNextBusinessDay, stone.StatusFinished:
	default:
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeWrongStatus,
			Title: "a receipt is issued only for a successful or scheduled operation; this one is " + t.Status})
		return
	}
	pdf := ReceiptPDF(t, s.Now())
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	w.Write(pdf)
}

// ReceiptPDF renders the receipt of a TED as a one-page PDF 1.4: the
// amount, the fee, the payee, its bank, branch and account, the dates and
// the transfer's id, in Helvetica (WinAnsiEncoding, so Portuguese accents
// survive). It is small (about 2 KB) and any PDF reader opens it.
func ReceiptPDF(t stone.Transfer, issued time.Time) []byte {
	a := t.Target.Account
	lines := []string{
		"Comprovante de transferência - TED",
		"",
		"Valor: " + reais(t.Amount),
		"Tarifa: " + reais(t.Fee),
		"Situação: " + t.Status,
		"",
		"Favorecido: " + t.Target.Entity.Name,
		"Documento: " + t.Target.Entity.Document,
		"Instituição: " + a.InstitutionName + " (" + a.InstitutionISPB + ")",
		"Agência: " + a.BranchCode + "   Conta: " + a.AccountCode,
		"",
		"Criada em: " + when(t.CreatedAt),
	}
	if t.ScheduledToEffective != nil {
		lines = append(lines, "Agendada para: "+*t.ScheduledToEffective)
	}
	if t.FinishedAt != nil {
		lines = append(lines, "Concluída em: "+when(t.FinishedAt))
	}
	lines = append(lines, "", "Transferência: "+t.ID, "Emitido em: "+when(&issued))
	return pdfDocument(lines)
}

// otherReceipt answers the receipt of an internal transfer (APPROVED,
// SCHEDULED or FINISHED) or of a Pix (SCHEDULED, MONEY_RESERVED or
// SETTLED).
func (s *Server) otherReceipt(w http.ResponseWriter, client string, req stone.ReceiptRequest) {
	now := s.Now()
	var lines []string
	status, found := "", false
	s.mu.Lock()
	if req.ResourceType == stone.ReceiptInternalTransfer {
		if rec := s.lookupInternal(client, req.ResourceID); rec != nil {
			found, status = true, rec.t.Status
			switch status {
			case stone.StatusApproved, stone.StatusScheduled, stone.StatusFinished:
				lines = internalReceiptLines(rec.t)
			}
		}
	} else if rec := s.lookupPix(client, req.ResourceID); rec != nil {
		found, status = true, rec.p.Status
		switch status {
		case stone.PixScheduled, stone.PixMoneyReserved, stone.PixSettled:
			lines = pixReceiptLines(rec.p)
		}
	}
	s.mu.Unlock()
	switch {
	case !found:
		writeError(w, http.StatusNotFound, stone.ErrorBody{Type: stone.ErrTypeNotFound})
		return
	case lines == nil:
		writeError(w, http.StatusUnprocessableEntity, stone.ErrorBody{Type: stone.ErrTypeWrongStatus,
			Title: "a receipt is issued only for a successful or scheduled operation; this one is " + status})
		return
	}
	pdf := pdfDocument(append(lines, "Emitido em: "+when(&now)))
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	w.WriteHeader(http.StatusOK)
	w.Write(pdf)
}

func internalReceiptLines(t stone.InternalTransfer) []string {
	lines := []string{
		"Comprovante de transferência entre contas Stone",
		"",
		"Valor: " + reais(t.Amount),
		"Tarifa: " + reais(t.Fee),
		"Situação: " + t.Status,
		"",
		"Favorecido: " + t.TargetAccountOwnerName,
		"Instituição: " + stoneName + " (" + stoneISPB + ")",
		"Conta: " + t.TargetAccountCode,
		"",
		"Criada em: " + when(t.CreatedAt),
	}
	if t.ScheduledTo != nil {
		lines = append(lines, "Agendada para: "+*t.ScheduledTo)
	}
	if t.FinishedAt != nil {
		lines = append(lines, "Concluída em: "+when(t.FinishedAt))
	}
	return append(lines, "", "Transferência: "+t.ID)
}

func pixReceiptLines(p stone.PixPayment) []string {
	lines := []string{
		"Comprovante de Pix",
		"",
		"Valor: " + reais(p.Amount),
		"Situação: " + p.Status,
		"",
		"Favorecido: " + p.Target.Entity.Name,
		"Documento: " + p.Target.Entity.Document,
		"Instituição: " + p.Target.Institution.Name + " (" + p.Target.Institution.ISPB + ")",
	}
	if p.Key != nil {
		lines = append(lines, "Chave Pix: "+*p.Key)
	}
	lines = append(lines, "", "Criado em: "+when(p.CreatedAt))
	if p.SettledAt != nil {
		lines = append(lines, "Liquidado em: "+when(p.SettledAt))
	}
	return append(lines, "", "Identificador (E2E): "+p.EndToEndID, "Pagamento: "+p.ID)
}

// reais formats cents as Brazilians write money: R$ 1.234,56.
func reais(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(c)
	}
	return fmt.Sprintf("%sR$ %s,%02d", sign, b.String(), cents%100)
}

// when writes a timestamp in Brasília time.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.In(brasilia).Format("02/01/2006 15:04:05") + " (horário de Brasília)"
}

// pdfDocument lays lines out on one A4 page and writes the objects, the
// cross-reference table and the trailer, with the byte offsets a reader
// needs (ISO 32000-1 §7.5).
func pdfDocument(lines []string) []byte {
	var content bytes.Buffer
	content.WriteString("BT\n/F1 12 Tf\n14 TL\n56 780 Td\n")
	for i, l := range lines {
		if i > 0 {
			content.WriteString("T*\n")
		}
		content.WriteString("(")
		content.Write(pdfString(l))
		content.WriteString(") Tj\n")
	}
	content.WriteString("ET\n")

	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Title (Comprovante) /Producer (stonetest) >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, len(objects), xref)
	return b.Bytes()
}

// pdfString encodes s for a PDF literal string in WinAnsiEncoding: Latin-1
// letters keep their byte, other characters become '?', and the
// delimiters are escaped.
func pdfString(s string) []byte {
	var b []byte
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b = append(b, '\\', byte(r))
		case r >= 0x20 && r < 0x7f, r >= 0xa0 && r <= 0xff:
			b = append(b, byte(r))
		default:
			b = append(b, '?')
		}
	}
	return b
}
