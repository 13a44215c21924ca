package web

import (
	"fmt"
	"net/http"
	"sort"

	"lote/internal/i18n"
	"lote/ledger"
)

// batchRow is one line of the list of batches.
type batchRow struct {
	Name   string // as uploaded
	B      ledger.Batch
	U      ledger.Upload
	Status status
}

// status is a batch's state as the page names it.
type status struct {
	Key   string // for the filter and the CSS class
	Label string // a message key, with Who as its argument when it has one
	Who   string
}

// Text is the status in the reader's language.
func (st status) Text(p *i18n.Printer) string {
	if st.Who == "" {
		return p.Lookup(st.Label)
	}
	return p.T(st.Label, st.Who)
}

var statusFilters = []status{
	{"", i18n.Mark("All"), ""}, {"invalid", i18n.Mark("Invalid rows"), ""}, {"ready", i18n.Mark("Ready to submit"), ""}, {"approval", i18n.Mark("Waiting for approval"), ""},
	{"sending", i18n.Mark("Sending"), ""}, {"paused", i18n.Mark("Paused"), ""}, {"stopped", i18n.Mark("Stopped"), ""}, {"done", i18n.Mark("Done"), ""},
	{"rejected", i18n.Mark("Rejected"), ""}, {"withdrawn", i18n.Mark("Withdrawn"), ""},
}

// statusOf names where a batch stands for a person.
func (s *Server) statusOf(b ledger.Batch, u ledger.Upload, hasUpload bool) status {
	switch {
	case b.State == ledger.BatchDone:
		return status{"done", i18n.Mark("Done"), ""}
	case b.State == ledger.BatchImporting:
		return status{"stopped", i18n.Mark("Import interrupted"), ""}
	case s.running(b.ID) != nil:
		return status{"sending", i18n.Mark("Sending"), ""}
	case b.LeaseHolder != "" && b.LeaseExpires.After(s.now()):
		return status{"sending", i18n.Mark("Sending (by %s)"), b.LeaseHolder}
	case hasUpload && u.RejectedBy != "":
		return status{"rejected", i18n.Mark("Rejected by %s"), u.RejectedBy}
	case hasUpload && u.WithdrawnBy != "":
		return status{"withdrawn", i18n.Mark("Withdrawn by %s"), u.WithdrawnBy}
	case b.Invalid > 0:
		return status{"invalid", i18n.Mark("Invalid rows: fix and upload again"), ""}
	case hasUpload && b.State == "":
		// An open upload without a batch: lote found no table in it.
		return status{"invalid", i18n.Mark("No table found: choose how to read it"), ""}
	case !hasUpload:
		if b.State == ledger.BatchRunning {
			return status{"stopped", i18n.Mark("Interrupted (run from the command line)"), ""}
		}
		return status{"ready", i18n.Mark("Imported from the command line"), ""}
	case u.Paused:
		return status{"paused", i18n.Mark("Paused"), ""}
	case !u.Submitted():
		return status{"ready", i18n.Mark("Ready to submit"), ""}
	case u.WaitsForApproval() && u.Approved():
		return status{"approval", i18n.Mark("Waiting for a second approval"), ""}
	case u.WaitsForApproval():
		return status{"approval", i18n.Mark("Waiting for approval"), ""}
	}
	return status{"stopped", i18n.Mark("Stopped"), ""}
}

type listContent struct {
	Batches   []batchRow
	Filters   []status
	Filter    string
	MaxUpload string
	CanUpload bool
	// Policy is the ledger's approval policy in force: what a batch
	// uploaded now will need.
	Policy ledger.PolicyChange
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.showList(w, r, http.StatusOK, "")
}

func (s *Server) showList(w http.ResponseWriter, r *http.Request, code int, msg string) {
	se := sessionFrom(r)
	ctx := r.Context()
	bs, err := s.l.Batches(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	ups, err := s.l.Uploads(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pol, err := s.l.Policy(ctx)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	filter := r.URL.Query().Get("state")
	c := listContent{Filters: statusFilters, Filter: filter, MaxUpload: sizeText(s.opts.MaxUpload),
		CanUpload: se.role == ledger.RoleUploader || se.role == ledger.RoleAdmin, Policy: pol}
	// Uploads whose batch the ledger no longer holds are listed with the
	// ledger's batches, newest first.
	inLedger := make(map[string]bool, len(bs))
	for _, b := range bs {
		inLedger[b.ID] = true
	}
	for id, u := range ups {
		if inLedger[id] {
			continue
		}
		// A rejected or withdrawn batch whose rows a corrected sheet took
		// over is listed from its upload record alone, and so is an
		// upload in which lote found no table (its page offers choices).
		bs = append(bs, uploadBatch(id, u))
	}
	sort.SliceStable(bs, func(i, j int) bool { return bs[i].Created.After(bs[j].Created) })
	for _, b := range bs {
		u, ok := ups[b.ID]
		st := s.statusOf(b, u, ok)
		if filter == "" || filter == st.Key {
			c.Batches = append(c.Batches, batchRow{Name: displayName(b, u, ok), B: b, U: u, Status: st})
		}
	}
	p := s.pageFor(r, se, "Batches")
	p.Error, p.Content = msg, c
	s.render(w, code, "list", p)
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", max(1, n>>10))
}
