package stone

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// paginate iterates over every item of a cursor-paginated list at path,
// page after page, following cursor.after until it is null (stone-api.md
// §7.1). q holds the list's filters; pageSize 0 lets Stone choose. The
// sequence ends after the first error, yielded with a zero T.
func paginate[T any](ctx context.Context, c *Client, path string, q url.Values, pageSize int, co callOptions) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		op := "GET " + path
		if pageSize < 0 {
			yield(zero, inputError(op, fmt.Errorf("negative page size %d", pageSize)))
			return
		}
		after := ""
		seen := map[string]bool{}
		for {
			pq := url.Values{}
			for k, v := range q {
				pq[k] = v
			}
			if pageSize > 0 {
				pq.Set("limit", strconv.Itoa(pageSize))
			}
			if after != "" {
				pq.Set("after", after)
			}
			r := &request{method: http.MethodGet, path: path, query: pq.Encode()}
			a, err := c.do(ctx, r, co)
			if err != nil {
				yield(zero, err)
				return
			}
			var page Page[T]
			if err := decodeAnswer(r, a, &page); err != nil {
				yield(zero, err)
				return
			}
			for _, t := range page.Data {
				if !yield(t, nil) {
					return
				}
			}
			if page.Cursor.After == nil || *page.Cursor.After == "" {
				return
			}
			after = *page.Cursor.After
			// A server that hands back a cursor twice would loop forever.
			if seen[after] {
				yield(zero, fmt.Errorf("stone: %s: cursor %q repeated", op, oneLine(after, 80)))
				return
			}
			seen[after] = true
		}
	}
}

// listAccount iterates over a list at path filtered by account_id, which
// must not be empty.
func listAccount[T any](ctx context.Context, c *Client, path, accountID string, pageSize int, co callOptions) iter.Seq2[T, error] {
	if err := checkID("account id", accountID); err != nil {
		return func(yield func(T, error) bool) {
			var zero T
			yield(zero, inputError("GET "+path, err))
		}
	}
	return paginate[T](ctx, c, path, url.Values{"account_id": {accountID}}, pageSize, co)
}
