// Package i18n is lote's message catalogue: the language a person reads
// (English or Brazilian Portuguese), how it is chosen (the --lang flag,
// LOTE_LANG, the locale's variables, the browser's Accept-Language) and how
// numbers, money and dates are written in it.
//
// A message's key is its English text, a fmt format: English prints the key
// itself, byte for byte as fmt would, so English output does not depend on
// the catalogue and a message not yet translated still prints. Portuguese
// comes from a golang.org/x/text/message catalogue (pt.go); a test lists
// every key the code uses and fails when one has no Portuguese text, or when
// Portuguese has a text no code uses.
package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The languages lote speaks.
var (
	English    = language.English
	Portuguese = language.BrazilianPortuguese
)

var (
	cat     = newCatalog()
	matcher = language.NewMatcher([]language.Tag{English, Portuguese})
)

func newCatalog() *catalog.Builder {
	b := catalog.NewBuilder(catalog.Fallback(English))
	for key, msg := range pt {
		if err := b.SetString(Portuguese, key, msg); err != nil {
			panic("i18n: " + key + ": " + err.Error()) // a fixed table: a test catches it
		}
	}
	return b
}

// Keys returns every key the Portuguese catalogue translates.
func Keys() []string {
	keys := make([]string, 0, len(pt))
	for k := range pt {
		keys = append(keys, k)
	}
	return keys
}

// Translation returns the Portuguese text of key as the catalogue holds it.
func Translation(key string) (string, bool) {
	s, ok := pt[key]
	return s, ok
}

// Parse reads a language as people write it: "pt-BR", "pt", "pt_BR.UTF-8",
// "en", "en_US.UTF-8", "C" or "POSIX" (English). It reports false for a
// language lote does not speak.
func Parse(s string) (language.Tag, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, ".@"); i >= 0 {
		s = s[:i] // the locale's encoding or modifier
	}
	switch strings.ToLower(s) {
	case "c", "posix":
		return English, true
	case "":
		return English, false
	}
	t, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil {
		return English, false
	}
	switch base, _ := t.Base(); base.String() {
	case "pt":
		return Portuguese, true
	case "en":
		return English, true
	}
	return English, false
}

// FromEnv chooses the language of the command line: flag (--lang) when
// given, else LOTE_LANG, else the first of LC_ALL, LC_MESSAGES and LANG that
// is set, as POSIX orders them. A flag or LOTE_LANG lote does not speak is
// an error; a locale it does not speak means English.
func FromEnv(flag string, getenv func(string) string) (language.Tag, error) {
	if flag != "" {
		t, ok := Parse(flag)
		if !ok {
			return English, fmt.Errorf("--lang %q: use pt-BR or en", flag)
		}
		return t, nil
	}
	if v := getenv("LOTE_LANG"); v != "" {
		t, ok := Parse(v)
		if !ok {
			return English, fmt.Errorf("LOTE_LANG=%q: use pt-BR or en", v)
		}
		return t, nil
	}
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			t, _ := Parse(v)
			return t, nil
		}
	}
	return English, nil
}

// FromAcceptLanguage chooses the language of a browser's Accept-Language
// header; English when it names neither.
func FromAcceptLanguage(header string) language.Tag {
	prefs, _, err := language.ParseAcceptLanguage(header)
	if err != nil || len(prefs) == 0 {
		return English
	}
	_, i, conf := matcher.Match(prefs...)
	if conf == language.No || i != 1 {
		return English
	}
	return Portuguese
}

// Code is the language as lote writes it: "pt-BR" or "en".
func Code(t language.Tag) string {
	if t == Portuguese {
		return "pt-BR"
	}
	return "en"
}

// Printer writes messages, numbers, money and dates in one language. The
// zero Printer and a nil one write English.
type Printer struct {
	pt *message.Printer // nil for English
}

var english = &Printer{}

// New returns the Printer of a language.
func New(t language.Tag) *Printer {
	if t != Portuguese {
		return english
	}
	return &Printer{pt: message.NewPrinter(Portuguese, message.Catalog(cat))}
}

// Tag returns the Printer's language.
func (p *Printer) Tag() language.Tag {
	if p.portuguese() {
		return Portuguese
	}
	return English
}

func (p *Printer) portuguese() bool { return p != nil && p.pt != nil }

// T formats the message key with args in the Printer's language. English is
// fmt.Sprintf(key, args...); Portuguese is the catalogue's text, or the key
// when it has none.
func (p *Printer) T(key string, args ...any) string {
	if !p.portuguese() {
		if len(args) == 0 {
			return key
		}
		return fmt.Sprintf(key, args...)
	}
	return p.pt.Sprintf(key, args...)
}

// Int writes a count: 1234 in English (as lote always has), 1.234 in
// Portuguese.
func (p *Printer) Int(n int) string {
	s := strconv.Itoa(n)
	if !p.portuguese() {
		return s
	}
	return group(s, '.')
}

// Money writes cents as the language writes money: R$ 1.234,56 in both, as
// lote's users read reais ("R$ 1.234,56" is how English output has always
// written them, too).
func (p *Printer) Money(cents int64) string {
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = -u
	}
	s := strconv.FormatUint(u, 10)
	for len(s) < 3 {
		s = "0" + s
	}
	out := "R$ " + group(s[:len(s)-2], '.') + "," + s[len(s)-2:]
	if neg {
		out = "-" + out
	}
	return out
}

// saoPaulo is Brasília's time; a fixed UTC-3 when the system has no zone
// data (Brazil has kept no daylight saving time since 2019).
var saoPaulo = func() *time.Location {
	if l, err := time.LoadLocation("America/Sao_Paulo"); err == nil {
		return l
	}
	return time.FixedZone("-03", -3*3600)
}()

// Location is the time zone dates and times are shown in.
func Location() *time.Location { return saoPaulo }

// Date writes a day: 05/12/2026 in Portuguese, 2026-12-05 in English, in
// Brasília's time.
func (p *Printer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if p.portuguese() {
		return t.In(saoPaulo).Format("02/01/2006")
	}
	return t.In(saoPaulo).Format(time.DateOnly)
}

// DateTime writes a moment to the minute: 05/12/2026 14:03 in Portuguese,
// 2026-12-05 14:03 in English, in Brasília's time.
func (p *Printer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if p.portuguese() {
		return t.In(saoPaulo).Format("02/01/2006 15:04")
	}
	return t.In(saoPaulo).Format("2006-01-02 15:04")
}

// group puts sep between every three digits of a run of digits.
func group(digits string, sep byte) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Lookup returns the translation of a message that has no arguments, or s
// itself: for text that may be a key or may be made already (a refusal's
// sentence).
func (p *Printer) Lookup(s string) string {
	if !p.portuguese() {
		return s
	}
	if tr, ok := pt[s]; ok {
		return tr
	}
	return s
}

// Mark returns key unchanged: it marks a message whose key reaches T or
// Lookup through a variable (a row state, a table's label), so that the
// completeness test knows it.
func Mark(key string) string { return key }
