package web

import (
	"fmt"
	"net/http"
	"sort"

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
	Label string
}

var statusFilters = []status{
	{"", "All"}, {"invalid", "Invalid rows"}, {"ready", "Ready to submit"}, {"approval", "Waiting for approval"},
	{"sending", "Sending"}, {"paused", "Paused"}, {"stopped", "Stopped"}, {"done", "Done"},
	{"rejected", "Rejected"}, {"withdrawn", "Withdrawn"},
}

// statusOf names where a batch stands for a person.
func (s *Server) statusOf(b ledger.Batch, u ledger.Upload, hasUpload bool) status {
	switch {
	case b.State == ledger.BatchDone:
		return status{"done", "Done"}
	case b.State == ledger.BatchImporting:
		return status{"stopped", "Import interrupted"}
	case s.running(b.ID) != nil:
		return status{"sending", "Sending"}
	case b.LeaseHolder != "" && b.LeaseExpires.After(s.now()):
		return status{"sending", "Sending (by " + b.LeaseHolder + ")"}
	case hasUpload && u.RejectedBy != "":
		return status{"rejected", "Rejected by " + u.RejectedBy}
	case hasUpload && u.WithdrawnBy != "":
		return status{"withdrawn", "Withdrawn by " + u.WithdrawnBy}
	case b.Invalid > 0:
		return status{"invalid", "Invalid rows: fix and upload again"}
	case hasUpload && b.State == "":
		// An open upload without a batch: lote found no table in it.
		return status{"invalid", "No table found: choose how to read it"}
	case !hasUpload:
		if b.State == ledger.BatchRunning {
			return status{"stopped", "Interrupted (run from the command line)"}
		}
		return status{"ready", "Imported from the command line"}
	case u.Paused:
		return status{"paused", "Paused"}
	case !u.Submitted():
		return status{"ready", "Ready to submit"}
	case u.WaitsForApproval() && u.Approved():
		return status{"approval", "Waiting for a second approval"}
	case u.WaitsForApproval():
		return status{"approval", "Waiting for approval"}
	}
	return status{"stopped", "Stopped"}
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
	p := s.pageFor(se, "Batches")
	p.Error, p.Content = msg, c
	s.render(w, code, "list", p)
}

func sizeText(n int64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d KB", max(1, n>>10))
}
