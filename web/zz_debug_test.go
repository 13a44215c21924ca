package web

import (
	"io"
	"testing"

	"lote/internal/i18n"
)

func TestZZDebug(t *testing.T) {
	parsed, _ := parseTemplates()
	for _, n := range []string{"batch", "list", "login", "message"} {
		var c any
		switch n {
		case "batch":
			c = batchContent{}
		case "list":
			c = listContent{}
		}
		err := parsed[n].Execute(io.Discard, page{L: i18n.New(i18n.Portuguese), Content: c, User: "x"})
		t.Log(n, err)
	}
}
