package web

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write the browser test's screenshots to ../docs/")

// chromium returns the Chromium to drive; without one the test is skipped,
// except in CI, where it must run.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed; CI must run the browser test (make chromium)")
	}
	t.Skip("chromium is not installed (make chromium installs it)")
	return ""
}

// startChromium starts a headless Chromium for the test; it ends with the
// test, or after 90 s.
func startChromium(t *testing.T, exe string, lang ...string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// This machine's network refuses Chromium's own background
		// connections; asking for none keeps the test quick and quiet.
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.NoFirstRun)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	if len(lang) > 0 {
		// The browser's language: its Accept-Language header.
		opts = append(opts, chromedp.Flag("lang", lang[0]), chromedp.Flag("accept-lang", lang[0]))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(cancelC)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	// Start the browser on ctx itself: a browser started by a step's
	// shorter context would end with that step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	return ctx
}

// browserWords are what the afternoon reads on the page and in the
// results sheet, in one browser language.
type browserWords struct {
	uploaded, approved, statusColumn, accepted string
}

var browserLangs = map[string]browserWords{
	"en":    {"Uploaded by ana", "Approved by bia", "lote_status", "accepted"},
	"pt-BR": {"Enviado por ana", "Aprovado por bia", "situação_lote", "aceita"},
}

// TestBrowser is a person's afternoon: sign in, upload a sheet with
// errors and see the cells marked, upload the fixed sheet and submit it,
// have a second person approve it, watch it finish, and read the results;
// once with a browser in English, once in Portuguese, whose screenshots
// are the ones docs/ shows.
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	exe := chromium(t)
	for _, lang := range []string{"en", "pt-BR"} {
		t.Run(lang, func(t *testing.T) { browserAfternoon(t, exe, lang) })
	}
}

func browserAfternoon(t *testing.T, exe, lang string) {
	words := browserLangs[lang]
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	dir := t.TempDir()
	bad, fixed := sheets(t)
	badPath, fixedPath := filepath.Join(dir, "folha-novembro.csv"), filepath.Join(dir, "folha-novembro-corrigida.csv")
	for p, b := range map[string][]byte{badPath: bad, fixedPath: fixed} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx := startChromium(t, exe, lang)

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
			t.Fatalf("%s: %v; the page:\n%.4000s", step, err, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	eval := func(js string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if *updateScreenshots && lang == "pt-BR" {
			if err := os.WriteFile(filepath.Join("..", "docs", "web-"+name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	signIn := func(name string) {
		t.Helper()
		do("sign in as "+name, chromedp.Navigate(e.ts.URL+"/login"), chromedp.WaitVisible(chromedp.ID("name")),
			chromedp.SendKeys(chromedp.ID("name"), name), chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("list-h")))
	}

	do("open", chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("signin")))
	if !eval(`document.documentElement.lang === "` + lang + `"`) {
		t.Errorf("the page's language is not %s", lang)
	}
	shot("sign-in")
	signIn("ana")

	// A sheet with two bad rows: the cells are marked with the reason.
	do("upload the sheet with errors", chromedp.SetUploadFiles(chromedp.ID("file"), []string{badPath}),
		chromedp.Click(chromedp.ID("upload")), chromedp.WaitVisible(chromedp.ID("sheet")))
	if got := text("#s-invalid"); got != "2" {
		t.Errorf("invalid rows shown: %q, want 2", got)
	}
	if !eval(`document.querySelectorAll("#sheet td.error").length === 2`) {
		t.Error("the page does not mark exactly 2 cells")
	}
	if got := text("#row-3 td.error"); !strings.HasPrefix(got, "08301661304") || !strings.Contains(got, "CPF") {
		t.Errorf("row 3's marked cell says %q", got)
	}
	if !eval(`document.querySelector("#row-2").textContent.includes("<script>alert(1)</script>") && !document.querySelector("#row-2 script")`) {
		t.Error("a name that is markup did not show as text")
	}
	if eval(`document.getElementById("submit") !== null`) {
		t.Error("a sheet with invalid rows can be submitted")
	}
	shot("invalid-rows")

	// The fixed sheet: confirm the total and submit it for approval.
	do("upload the fixed sheet", chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("file")),
		chromedp.SetUploadFiles(chromedp.ID("file"), []string{fixedPath}),
		chromedp.Click(chromedp.ID("upload")), chromedp.WaitVisible(chromedp.ID("submit-form")))
	batchURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#s-invalid"); got != "0" {
		t.Errorf("invalid rows of the fixed sheet: %q", got)
	}
	shot("submit")
	do("submit", chromedp.Click(chromedp.ID("confirm")), chromedp.Click(chromedp.ID("submit")),
		chromedp.WaitVisible(chromedp.CSS("#status.approval")))
	if eval(`document.getElementById("approve") !== null`) {
		t.Error("the uploader is offered to approve her own batch")
	}

	// A second person approves; the page follows the sending to the end.
	do("sign out", chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(chromedp.ID("signin")))
	signIn("bia")
	do("open the batch", chromedp.Navigate(batchURL), chromedp.WaitVisible(chromedp.ID("approve")))
	shot("approve")
	// When the sending ends the page reloads itself; reading it meanwhile
	// finds no node, so the test opens it again once it is done.
	do("approve", chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.CSS("#status.done")))
	do("reopen the batch", chromedp.Navigate(batchURL), chromedp.WaitVisible(chromedp.CSS("#status.done")),
		chromedp.WaitVisible(chromedp.CSS("#counts [data-state=accepted]")))
	if got := text("#counts [data-state=accepted]"); got != "12" {
		t.Errorf("accepted rows shown: %q, want 12", got)
	}
	if got := text(".people"); !strings.Contains(got, words.uploaded) || !strings.Contains(got, words.approved) {
		t.Errorf("who did what: %q", got)
	}
	shot("done")
	do("list", chromedp.Navigate(e.ts.URL+"/"), chromedp.WaitVisible(chromedp.ID("list-h")))
	shot("batches")

	// The results sheet, fetched as the download link does.
	id := batchURL[strings.LastIndex(batchURL, "/")+1:]
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch("/batches/`+id+`/results").then(r => r.text())`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("results: %v\n%s", err, body)
	}
	status := -1
	for i, h := range recs[0] {
		if h == words.statusColumn {
			status = i
		}
	}
	if len(recs) != 13 || status < 0 {
		t.Fatalf("results: %d rows, %s at %d", len(recs), words.statusColumn, status)
	}
	for _, rec := range recs[1:] {
		if rec[status] != words.accepted {
			t.Errorf("results row %s: %s", rec[0], rec[status])
		}
	}
	if n := len(e.sim.Transfers()); n != 12 {
		t.Errorf("%d transfers, want 12", n)
	}
}

// TestBrowserCrossOrigin is the attack of issue 13: a page served from
// another port of the same host, opened by a signed-in approver, submits
// a multipart form to approve a batch that waits for approval. SameSite
// does not stop it (another port is the same site), so the server must:
// the batch stays unapproved and nothing reaches the emulator.
func TestBrowserCrossOrigin(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a browser")
	}
	exe := chromium(t)
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	_, fixed := sheets(t)
	id, path := submittedForApproval(t, e.login("ana"), fixed)
	target := e.ts.URL + path + "/approve"

	var served atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Prize</title>
<form id="f" method="post" action="%s" enctype="multipart/form-data">
<input type="hidden" name="confirm" value="yes"></form>
<script>document.getElementById("f").submit()</script>`, html.EscapeString(target))
	}))
	defer evil.Close()
	if !strings.HasPrefix(evil.URL, "http://127.0.0.1:") || evil.URL == e.ts.URL {
		t.Fatalf("the attacker's page is at %s, the server at %s: want another port of 127.0.0.1", evil.URL, e.ts.URL)
	}

	ctx := startChromium(t, exe)
	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("body")))
			t.Fatalf("%s: %v; the page:\n%.4000s", step, err, html)
		}
	}
	do("sign in as bia", chromedp.Navigate(e.ts.URL+"/login"), chromedp.WaitVisible(chromedp.ID("name")),
		chromedp.SendKeys(chromedp.ID("name"), "bia"), chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("list-h")))
	// bia sees the approve button on the batch's own page: the session
	// is one that could approve.
	do("open the batch", chromedp.Navigate(e.ts.URL+path), chromedp.WaitVisible(chromedp.ID("approve")))

	// The attacker's page has no <main>; every page of the server has one.
	do("open the attacker's page", chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS("main")))
	where, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	said, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if served.Load() == 0 || where != target || !strings.Contains(said, "came from another site") {
		t.Errorf("after the attacker's page (served %d times): at %s, saying %.300q; want the server's refusal at %s",
			served.Load(), where, said, target)
	}
	u, err := e.l.Upload(context.Background(), id)
	if err != nil || u.Approved() {
		t.Errorf("the batch after the attack: %+v, %v; want it unapproved", u, err)
	}
	if e.srv.running(id) != nil {
		t.Error("the server is sending the batch")
	}
	if n := len(e.sim.Transfers()); n != 0 {
		t.Errorf("%d transfers at the emulator after the attack, want 0", n)
	}
	// bia's own approval, from the page, still works.
	do("approve on the page", chromedp.Navigate(e.ts.URL+path), chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.CSS("#status.done")))
}
