package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlags returns a flag set for one subcommand that reports errors
// instead of exiting, so the whole CLI can be tested in process.
func newFlags(name, args string, cio cmdIO) *flag.FlagSet {
	fs := flag.NewFlagSet("lote "+name, flag.ContinueOnError)
	fs.SetOutput(cio.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: lote %s [flags] %s\n\nFlags:\n", name, args)
		printDefaults(fs)
	}
	return fs
}

// printDefaults prints the flags as flag.PrintDefaults does, less those
// whose usage starts with "hidden:" (knobs that exist for tests).
func printDefaults(fs *flag.FlagSet) {
	visible := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	visible.SetOutput(fs.Output())
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Usage, "hidden:") {
			visible.Var(f.Value, f.Name, f.Usage)
			// Var took the current value as the default; show the real one
			// even when usage is printed after parsing.
			visible.Lookup(f.Name).DefValue = f.DefValue
		}
	})
	visible.PrintDefaults()
}

// parseFlags parses args, then fills every flag not given on the command
// line from its LOTE_<NAME> environment variable (--api-url → LOTE_API_URL).
// It returns the positional arguments, or false, having printed the reason,
// when the arguments are wrong.
func parseFlags(fs *flag.FlagSet, args []string, cio cmdIO) ([]string, bool) {
	// Flags may follow the file name (`lote validate folha.csv --format json`):
	// parse, then keep parsing after each positional argument.
	var positional []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			return nil, false // the flag package printed why
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || bad != nil {
			return
		}
		name := "LOTE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := cio.getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				bad = fmt.Errorf("%s=%q: %v", name, v, err)
			}
		}
	})
	if bad != nil {
		fmt.Fprintf(cio.stderr, "lote: %v\n", bad)
		return nil, false
	}
	return positional, true
}

// usageError prints a one-line reason and the command's usage.
func usageError(fs *flag.FlagSet, w io.Writer, format string, a ...any) int {
	fmt.Fprintf(w, "lote: "+format+"\n", a...)
	fs.Usage()
	return exitUsage
}
