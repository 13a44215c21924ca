package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postBody sends a POST with the given content type and extra headers, as
// a page of another site or a script could; it returns the status and body.
func (u *user) postBody(path, contentType string, body []byte, header http.Header) (int, string) {
	u.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u.e.ts.URL+path, bytes.NewReader(body))
	if err != nil {
		u.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := u.c.Do(req)
	if err != nil {
		u.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// multipartBody encodes fields as multipart/form-data.
func multipartBody(fields url.Values) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// TestEveryPostNeedsTheToken: no content type lets a POST skip the CSRF
// token. Before, a multipart body skipped it on every route but the
// upload: an empty multipart POST with the approver's cookie approved.
func TestEveryPostNeedsTheToken(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	ana, bia := e.login("ana"), e.login("bia")
	_, fixed := sheets(t)
	// One batch submitted and waiting for approval, one only uploaded.
	waitingID, waiting := submittedForApproval(t, ana, fixed)
	_, page, ready := ana.upload("other.csv", bytes.ReplaceAll(fixed, []byte("PAY-2026-11-"), []byte("PAY-2026-12-")))
	submit := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}

	routes := []struct {
		path   string
		u      *user
		fields url.Values
	}{
		{"/logout", ana, nil},
		{"/upload", ana, nil},
		{ready + "/submit", ana, submit},
		{ready + "/release", ana, url.Values{"confirm": {"yes"}}},
		{waiting + "/approve", bia, nil},
		{waiting + "/pause", ana, nil},
		{waiting + "/resume", ana, nil},
		{waiting + "/reconciliation", ana, nil},
	}
	bodies := []struct {
		name string
		make func(url.Values) (string, []byte)
	}{
		{"urlencoded", func(f url.Values) (string, []byte) {
			return "application/x-www-form-urlencoded", []byte(f.Encode())
		}},
		{"multipart", multipartBody},
		{"text/plain", func(f url.Values) (string, []byte) { return "text/plain", []byte("csrf=" + ana.csrf) }},
	}
	for _, rt := range routes {
		for _, b := range bodies {
			for _, token := range []string{"", "forged"} {
				fields := url.Values{}
				for k, v := range rt.fields {
					fields[k] = v
				}
				if token != "" {
					fields.Set("csrf", token)
				}
				ct, body := b.make(fields)
				code, got := rt.u.postBody(rt.path, ct, body, nil)
				if code != http.StatusForbidden || !strings.Contains(got, "The form has expired") {
					t.Errorf("POST %s, %s, token %q: %d, want 403 saying the form expired:\n%.1000s", rt.path, b.name, token, code, got)
				}
			}
		}
	}
	// Nothing changed: the batch waits, the other is not submitted, both
	// people are still signed in, nothing was sent.
	ctx := context.Background()
	if u, err := e.l.Upload(ctx, waitingID); err != nil || u.Approved() || u.Paused {
		t.Errorf("waiting batch after the refusals: %+v, %v", u, err)
	}
	if u, err := e.l.Upload(ctx, strings.TrimPrefix(ready, "/batches/")); err != nil || u.Submitted() {
		t.Errorf("ready batch after the refusals: %+v, %v", u, err)
	}
	for _, u := range []*user{ana, bia} {
		if code, body := u.get("/"); code != http.StatusOK || !strings.Contains(body, `id="list-h"`) {
			t.Errorf("signed out by a refused POST: %d", code)
		}
	}
	if n := len(e.sim.Transfers()); n != 0 {
		t.Errorf("%d transfers after refused POSTs", n)
	}
	// With the token, a multipart form works like an urlencoded one.
	ct, body := multipartBody(url.Values{"csrf": {bia.csrf}})
	if code, got := bia.postBody(waiting+"/approve", ct, body, nil); code != http.StatusOK || !strings.Contains(got, "Approved") {
		t.Errorf("multipart approve with the token: %d\n%.1000s", code, got)
	}
}

// TestCrossOriginRefused: a POST that a browser says comes from another
// origin is refused before its token is even looked at; another port of
// the same host is another origin.
func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.RequireApproval = true })
	ana, bia := e.login("ana"), e.login("bia")
	_, fixed := sheets(t)
	id, waiting := submittedForApproval(t, ana, fixed)
	bia.get(waiting)
	own := e.ts.URL
	other := strings.Replace(own, "127.0.0.1:", "127.0.0.1:1", 1)
	tests := []struct {
		name   string
		header http.Header
	}{
		{"Origin of another port", http.Header{"Origin": {other}}},
		{"Origin of another host", http.Header{"Origin": {"http://evil.example"}}},
		{"Origin null", http.Header{"Origin": {"null"}}},
		{"Origin of another scheme", http.Header{"Origin": {strings.Replace(own, "http:", "https:", 1)}}},
		{"Sec-Fetch-Site cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"Sec-Fetch-Site same-site", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {other}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"csrf": {bia.csrf}}
			code, body := bia.postBody(waiting+"/approve", "application/x-www-form-urlencoded", []byte(form.Encode()), tt.header)
			if code != http.StatusForbidden || !strings.Contains(body, "came from another site") {
				t.Errorf("approve: %d, want 403:\n%.1000s", code, body)
			}
		})
	}
	// Signing in from another site is refused as well.
	anon := e.browser()
	anon.get("/login")
	form := url.Values{"name": {"bia"}, "password": {testPassword}, "csrf": {anon.csrf}}
	if code, _ := anon.postBody("/login", "application/x-www-form-urlencoded", []byte(form.Encode()), http.Header{"Origin": {other}}); code != http.StatusForbidden {
		t.Errorf("sign-in from another origin: %d, want 403", code)
	}
	if u, err := e.l.Upload(context.Background(), id); err != nil || u.Approved() {
		t.Fatalf("approved from another origin: %+v, %v", u, err)
	}
	// The page's own origin, as a browser sends it, is let through.
	form = url.Values{"csrf": {bia.csrf}}
	code, body := bia.postBody(waiting+"/approve", "application/x-www-form-urlencoded", []byte(form.Encode()),
		http.Header{"Origin": {own}, "Sec-Fetch-Site": {"same-origin"}})
	if code != http.StatusOK || !strings.Contains(body, "Approved") {
		t.Errorf("approve from the page's own origin: %d\n%.1000s", code, body)
	}
}

// submittedForApproval uploads sheet as u and submits it; the batch waits
// for an approver. It returns the batch id and its page's path.
func submittedForApproval(t *testing.T, u *user, sheet []byte) (id, path string) {
	t.Helper()
	_, page, path := u.upload("payouts.csv", sheet)
	form := url.Values{"confirm": {"yes"}, "total": {hiddenValue(t, page, "total")}, "rows": {hiddenValue(t, page, "rows")}}
	if code, body := u.post(path+"/submit", form); code != http.StatusOK || !strings.Contains(body, "waits for") {
		t.Fatalf("submit: %d\n%.2000s", code, body)
	}
	return strings.TrimPrefix(path, "/batches/"), path
}
