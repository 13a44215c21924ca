package web

import (
	"html/template"
	"net/http"
	"time"

	"lote/check"
	"lote/internal/i18n"
	"lote/validate"
)

// printerFor is the language a request is answered in: the one its user
// chose on the page (kept in the ledger), else the browser's
// Accept-Language, else English.
func printerFor(r *http.Request, se *session) *i18n.Printer {
	if se != nil && se.lang != "" {
		if t, ok := i18n.Parse(se.lang); ok {
			return i18n.New(t)
		}
	}
	return i18n.New(i18n.FromAcceptLanguage(r.Header.Get("Accept-Language")))
}

// T is a message in the page's language.
func (p page) T(key string, args ...any) string { return p.L.T(key, args...) }

// H is a message that holds markup (<strong>), in the page's language; its
// arguments are escaped.
func (p page) H(key string, args ...any) template.HTML {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = template.HTMLEscapeString(s)
		}
	}
	return template.HTML(p.L.T(key, args...))
}

// Money writes cents as reais.
func (p page) Money(cents int64) string { return validate.FormatBRL(cents) }

// When writes a moment to the minute: in English as the page always has (the
// server's time zone), in Portuguese as Brazilians read it, 05/12/2026 14:03
// in Brasília's time.
func (p page) When(t time.Time) string {
	if p.L.Tag() == i18n.Portuguese {
		return p.L.DateTime(t)
	}
	return t.Local().Format("2006-01-02 15:04")
}

// Lang is the page's language as HTML's lang attribute writes it.
func (p page) Lang() string { return i18n.Code(p.L.Tag()) }

// setLang keeps the language the user chose in the ledger and sends them
// back where they were.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	se := sessionFrom(r)
	lang := r.PostFormValue("lang")
	if t, ok := i18n.Parse(lang); ok && lang != "" {
		lang = i18n.Code(t)
	} else {
		lang = ""
	}
	if err := s.l.SetUserLang(r.Context(), se.user, lang); err != nil {
		s.log.Error("set language", "user", se.user, "err", err)
		s.fail(w, r, se, http.StatusInternalServerError, "The language could not be recorded; it is in the server's log. Try again.")
		return
	}
	back := r.PostFormValue("back")
	if back == "" || back[0] != '/' || len(back) > 1 && (back[1] == '/' || back[1] == '\\') {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// Issue is a row's problem, without its place, in the page's language.
func (p page) Issue(is check.Issue) string { return is.MessageIn(p.L) }
