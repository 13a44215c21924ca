package lote_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// rules says, for each package, which lote packages it may import and
// whether it may use the network or a database. Lower packages never import
// higher ones (DESIGN.md "Packages"); only cmd/ wires everything.
var rules = map[string]struct {
	lote    []string // lote packages it may import
	noStd   []string // standard packages it must not import
	outside []string // modules outside the standard library it may import
}{
	"validate":        {noStd: []string{"net/http", "database/sql", "os/exec"}},
	"sheet":           {noStd: []string{"net/http", "database/sql"}, outside: []string{"github.com/xuri/excelize/v2", "golang.org/x/text"}},
	"stone":           {noStd: []string{"database/sql"}, outside: []string{"github.com/golang-jwt/jwt/v5"}},
	"stone/stonetest": {lote: []string{"stone", "validate"}, noStd: []string{"database/sql"}, outside: []string{"github.com/golang-jwt/jwt/v5", "golang.org/x/time"}},
	"ledger":          {noStd: []string{"net/http"}, outside: []string{"modernc.org/sqlite", "golang.org/x/text"}},
	"check":           {lote: []string{"validate", "sheet"}, noStd: []string{"net/http", "database/sql"}, outside: []string{"golang.org/x/text"}},
	"internal/i18n":   {noStd: []string{"net/http", "database/sql"}, outside: []string{"golang.org/x/text"}},
	"internal/pace":   {noStd: []string{"net/http", "database/sql"}, outside: []string{"golang.org/x/time"}},
	"batch":           {lote: []string{"check", "validate", "sheet", "ledger", "stone", "internal/pace", "internal/i18n"}, outside: []string{"golang.org/x/sync", "golang.org/x/time", "golang.org/x/text", "golang.org/x/term", "github.com/xuri/excelize/v2"}},
	"reconcile":       {lote: []string{"check", "validate", "sheet", "ledger", "stone", "internal/pace", "internal/i18n"}, noStd: []string{"database/sql"}, outside: []string{"golang.org/x/sync", "github.com/gocarina/gocsv"}},
	"receipts":        {lote: []string{"ledger", "stone"}, noStd: []string{"net/http", "database/sql"}, outside: []string{"golang.org/x/text", "golang.org/x/time"}},
	"web":             {lote: []string{"batch", "check", "reconcile", "receipts", "ledger", "validate", "sheet", "stone", "notify", "internal/i18n"}, outside: []string{"golang.org/x/crypto", "golang.org/x/net"}},
	"notify":          {lote: []string{"ledger", "validate"}, noStd: []string{"database/sql"}},
}

// packageImports returns the imports of the non-test Go files in dir.
func packageImports(t *testing.T, dir string) (imports []string, doc bool) {
	t.Helper()
	seen := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name) || f.Name.Name == "main" && f.Doc != nil {
			doc = true
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !seen[p] {
				seen[p] = true
				imports = append(imports, p)
			}
		}
	}
	sort.Strings(imports)
	return imports, doc
}

func TestPackageDependencies(t *testing.T) {
	for pkg, rule := range rules {
		imports, _ := packageImports(t, pkg)
		for _, imp := range imports {
			switch {
			case imp == "lote" || strings.HasPrefix(imp, "lote/"):
				if !contains(rule.lote, strings.TrimPrefix(imp, "lote/")) {
					t.Errorf("%s imports %s: a lower package must not depend on it", pkg, imp)
				}
			case contains(rule.noStd, imp):
				t.Errorf("%s imports %s, which it must not use", pkg, imp)
			case !strings.Contains(strings.SplitN(imp, "/", 2)[0], "."):
				// standard library
			default:
				ok := false
				for _, m := range rule.outside {
					if imp == m || strings.HasPrefix(imp, m+"/") {
						ok = true
					}
				}
				if !ok {
					t.Errorf("%s imports %s, a module not chosen for it", pkg, imp)
				}
			}
		}
	}
}

// TestPackageDocs checks that every package says what it is for.
func TestPackageDocs(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "bin" {
			return filepath.SkipDir
		}
		goFiles, _ := filepath.Glob(filepath.Join(path, "*.go"))
		nonTest := 0
		for _, f := range goFiles {
			if !strings.HasSuffix(f, "_test.go") {
				nonTest++
			}
		}
		if nonTest == 0 {
			return nil
		}
		if _, doc := packageImports(t, path); !doc {
			t.Errorf("package %s has no package doc comment", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
