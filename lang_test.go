package lote_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"lote/internal/i18n"
)

// messageCalls says where the code passes a message key: for a function or
// method name, the index of its key argument, by package. T and Lookup are
// i18n.Printer's; Mark marks a key that reaches them through a variable.
var messageCalls = map[string]map[string]int{
	"":         {"T": 0, "Mark": 0},
	"validate": {"fail": 1, "warn": 3, "warnAt": 3},
	"web":      {"fail": 4, "refuse": 1, "showList": 3, "showLogin": 4},
}

// templateKey finds the keys the page's templates pass to T and H.
var templateKey = regexp.MustCompile(`\.(?:T|H) ("(?:[^"\\]|\\.)*")`)

// usedKeys lists every message key the code and the templates use, with
// where each is.
func usedKeys(t *testing.T) map[string]string {
	t.Helper()
	keys := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".html") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
				k, err := strconv.Unquote(m[1])
				if err != nil {
					t.Errorf("%s: %s: %v", path, m[1], err)
				}
				keys[k] = path
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var name string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				name = fn.Name
			case *ast.SelectorExpr:
				name = fn.Sel.Name
			}
			i, ok := messageCalls[""][name]
			if j, ok2 := messageCalls[pkg][name]; ok2 {
				i, ok = j, true
			}
			if !ok || i >= len(call.Args) {
				return true
			}
			if lit, ok := call.Args[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if k, _ := strconv.Unquote(lit.Value); k != "" {
					keys[k] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestMessagesInBothLanguages fails when a message the code uses has no
// Portuguese text, or Portuguese has a text no code uses, or a translation
// does not take its message's arguments.
func TestMessagesInBothLanguages(t *testing.T) {
	used := usedKeys(t)
	var missing []string
	for k, where := range used {
		if _, ok := i18n.Translation(k); !ok {
			missing = append(missing, where+": "+strconv.Quote(k))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no Portuguese for %s", m)
	}
	verb := regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*[\d.]*[a-zA-Z%]`)
	for _, k := range i18n.Keys() {
		if _, ok := used[k]; !ok {
			t.Errorf("Portuguese has %q, which no code uses", k)
		}
		tr, _ := i18n.Translation(k)
		if a, b := len(verb.FindAllString(k, -1)), len(verb.FindAllString(tr, -1)); a != b {
			t.Errorf("%q has %d verbs, its Portuguese %q %d", k, a, tr, b)
		}
	}
}
