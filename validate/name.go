package validate

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxReferenceLen is the longest reference accepted, in characters.
const MaxReferenceLen = 200

// MaxNameLen is the longest payee name accepted, in characters, after
// spaces are trimmed and collapsed. Stone documents no limit for
// target.entity.name (stone-api.md §2.1 lists it only as required); a TED
// reaches the payee's bank as an STR message (STR0008) whose creditor name,
// NomCliCredtd, holds at most 80 characters in the Central Bank's message
// catalogue. A longer name would be cut or refused on the way, so it is
// refused here, where the person can still shorten it.
const MaxNameLen = 80

// Name normalises the payee's name: trimmed, runs of inner white space
// collapsed to one space. An empty name, invalid UTF-8, a control
// character (a line break inside the cell, say) or more than MaxNameLen
// characters is an error.
func Name(value string) (string, error) {
	v, err := name(value)
	if err != nil {
		return "", err
	}
	if n := len(v); n > MaxNameLen {
		if n = utf8.RuneCountInString(v); n > MaxNameLen {
			return "", fail(ErrNameTooLong, "The name has %s characters; a TED carries at most %s to the payee's bank. Shorten it as the bank knows it (abbreviate the middle names or the company type).", strconv.Itoa(n), strconv.Itoa(MaxNameLen))
		}
	}
	return v, nil
}

func name(value string) (string, error) {
	// One pass tells whether the name is valid UTF-8 and clean (nothing to
	// trim or collapse, no control character): then it needs no copy.
	clean := true
	prevSpace := true
	for i, r := range value {
		switch {
		case r == utf8.RuneError:
			if _, size := utf8.DecodeRuneInString(value[i:]); size == 1 {
				// An invalid byte, not the character U+FFFD itself.
				return "", fail(ErrInvalidName, "The name has characters that are not valid text; retype it.")
			}
			prevSpace = false
		case r == ' ':
			if prevSpace {
				clean = false
			}
			prevSpace = true
		case r < utf8.RuneSelf:
			// In ASCII, the white space other than ' ' is all control
			// characters: one comparison instead of two table lookups.
			if r < 0x20 || r == 0x7f {
				clean = false
				prevSpace = true
			} else {
				prevSpace = false
			}
		case unicode.IsSpace(r) || unicode.IsControl(r):
			clean = false
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	if clean && !prevSpace {
		return value, nil
	}
	v := strings.TrimFunc(value, unicode.IsSpace)
	if v == "" {
		return "", fail(ErrMissingName, "The payee's name is missing.")
	}
	var b strings.Builder
	space := false
	for _, r := range v {
		switch {
		case r == ' ' || r == '\u00a0':
			space = true
		case unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp):
			return "", fail(ErrInvalidName, "The name contains a control character (such as a line break or tab); keep it on one line.")
		case unicode.IsSpace(r):
			space = true
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}

// Reference normalises the optional business id: trimmed, at most
// MaxReferenceLen characters, no control characters. "" when empty.
func Reference(value string) (string, error) {
	if printableASCII(value) && len(value) <= MaxReferenceLen &&
		(value == "" || value[0] != ' ' && value[len(value)-1] != ' ') {
		// The usual reference: nothing to trim, nothing to refuse.
		return value, nil
	}
	v := strings.TrimFunc(value, unicode.IsSpace)
	if !utf8.ValidString(v) {
		return "", fail(ErrInvalidReference, "The reference has characters that are not valid text.")
	}
	n := 0
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", fail(ErrInvalidReference, "The reference contains a control character (such as a line break or tab).")
		}
		n++
	}
	if n > MaxReferenceLen {
		return "", fail(ErrInvalidReference, "The reference has %s characters; the limit is %s.", strconv.Itoa(n), strconv.Itoa(MaxReferenceLen))
	}
	return v, nil
}

// printableASCII reports whether s holds only the ASCII characters from
// space to '~': valid UTF-8, no control character.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
