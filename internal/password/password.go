// Package password says whether a password is good enough for a user of
// lote's web page: long enough, and not one of those tried first by
// anyone who guesses.
package password

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MinLength is the shortest password accepted, in characters.
const MinLength = 12

// MaxBytes is the longest password accepted, in bytes: bcrypt reads only
// the first 72, so a longer one would pass with any ending.
const MaxBytes = 72

// ErrWeak is wrapped by every refusal of Check.
var ErrWeak = errors.New("password refused")

//go:embed common.txt
var commonText string

// common holds the words of common.txt.
var common = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonText, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// keyboards are runs of keys next to each other; a password inside one,
// forwards or backwards, is a walk along the keyboard.
var keyboards = []string{
	"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertyuiopasdfghjklzxcvbnm",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "qazwsxedcrfvtgbyhnujmikolp", "1q2w3e4r5t6y7u8i9o0p",
	"q1w2e3r4t5y6u7i8o9p0", "!@#$%^&*()", "1!2@3#4$5%6^7&8*9(0)",
}

// Check says why pw may not be the password of the user named user, or
// nil. It refuses a password shorter than MinLength characters or longer
// than MaxBytes bytes; one that repeats a short run ("aaaaaaaaaaaa",
// "abcabcabcabc"), counts up or down ("123456789012") or walks along the
// keyboard ("1q2w3e4r5t6y"); and one whose letters, once digits and
// symbols are taken away and look-alike digits read as letters, are a
// common word, a common word repeated, the user's name, or fewer than
// four ("Senha@2024!!", "flamengo1981", "ana.ana.ana.").
func Check(pw, user string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("the password is not valid text: %w", ErrWeak)
	case n < MinLength:
		return fmt.Errorf("the password has %d characters; use at least %d: %w", n, MinLength, ErrWeak)
	case len(pw) > MaxBytes:
		return fmt.Errorf("the password is longer than %d bytes; use a shorter one: %w", MaxBytes, ErrWeak)
	}
	lower := strings.ToLower(pw)
	if unit := repeatedUnit(lower); unit != "" {
		return fmt.Errorf("the password repeats %q; use words nobody would guess: %w", unit, ErrWeak)
	}
	if sequence(lower) {
		return fmt.Errorf("the password counts up or down; use words nobody would guess: %w", ErrWeak)
	}
	for _, k := range keyboards {
		if strings.Contains(k, lower) || strings.Contains(reverse(k), lower) || strings.Contains(k+k, lower) {
			return fmt.Errorf("the password is a walk along the keyboard; use words nobody would guess: %w", ErrWeak)
		}
	}
	letters := lettersOf(lower)
	name := lettersOf(strings.ToLower(user))
	switch {
	case utf8.RuneCountInString(letters) < 4:
		return fmt.Errorf("the password is mostly digits and symbols; use words nobody would guess: %w", ErrWeak)
	case name != "" && (letters == name || repeats(letters, name)):
		return fmt.Errorf("the password is the user's name; use words nobody would guess: %w", ErrWeak)
	}
	if w := commonWord(letters); w != "" {
		return fmt.Errorf("the password is the common word %q with digits or symbols; use words nobody would guess: %w", w, ErrWeak)
	}
	return nil
}

// repeatedUnit is the run of at most 4 characters that s repeats from
// start to end, or "".
func repeatedUnit(s string) string {
	r := []rune(s)
	for size := 1; size <= 4 && size < len(r); size++ {
		if len(r)%size != 0 && size > 1 {
			continue
		}
		ok := true
		for i := size; i < len(r) && ok; i++ {
			ok = r[i] == r[i-size]
		}
		if ok {
			return string(r[:size])
		}
	}
	return ""
}

// sequence reports whether each character of s follows the one before
// by one, up or down, digits wrapping from 9 to 0.
func sequence(s string) bool {
	r := []rune(s)
	for _, step := range []rune{1, -1} {
		ok := true
		for i := 1; i < len(r) && ok; i++ {
			d := r[i] - r[i-1]
			wrap := unicode.IsDigit(r[i]) && unicode.IsDigit(r[i-1]) && (d == -9*step)
			ok = d == step || wrap
		}
		if ok {
			return true
		}
	}
	return false
}

// leet reads digits and symbols that stand for letters as those letters.
var leet = map[rune]rune{'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', '$': 's', '!': 'i'}

// lettersOf is s's letters, without accents' marks, and with look-alike
// digits and symbols read as letters when they stand between letters or
// lead into them ("p4ssw0rd", "$enha"), not when they trail ("senha123").
func lettersOf(s string) string {
	r := []rune(s)
	end := len(r)
	for end > 0 && !unicode.IsLetter(r[end-1]) {
		end--
	}
	var b strings.Builder
	for _, c := range r[:end] {
		if l, ok := leet[c]; ok {
			c = l
		}
		if unicode.IsLetter(c) {
			b.WriteRune(unaccent(c))
		}
	}
	return b.String()
}

// unaccent maps the accented letters of Portuguese to their base letter.
func unaccent(c rune) rune {
	switch c {
	case 'á', 'à', 'â', 'ã', 'ä':
		return 'a'
	case 'é', 'ê', 'è', 'ë':
		return 'e'
	case 'í', 'î', 'ì', 'ï':
		return 'i'
	case 'ó', 'ô', 'õ', 'ò', 'ö':
		return 'o'
	case 'ú', 'û', 'ù', 'ü':
		return 'u'
	case 'ç':
		return 'c'
	}
	return c
}

// commonWord is the common word that letters is, alone or repeated, or
// two common words together ("amormeu", "senhaadmin"), or "".
func commonWord(letters string) string {
	if common[letters] {
		return letters
	}
	for w := range common {
		if repeats(letters, w) {
			return w
		}
	}
	for i := 1; i < len(letters); i++ {
		if common[letters[:i]] && common[letters[i:]] && i >= 3 && len(letters)-i >= 3 {
			return letters[:i] + " " + letters[i:]
		}
	}
	return ""
}

// repeats reports whether s is w written twice or more.
func repeats(s, w string) bool {
	return len(w) > 0 && len(s) > len(w) && len(s)%len(w) == 0 && strings.Repeat(w, len(s)/len(w)) == s
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}
