package zoomtest

import (
	"net/http"
	"strings"
)

// Cloud is Zoom with several accounts behind one address, as api.zoom.us
// and zoom.us serve every account: a token is asked for with an account's
// id and its app's credentials, and a call is the account of its token.
// Each account keeps its own meetings, users, tokens and limits (Zoom's
// per-second limits are per account); meeting ids are unique across them,
// so another account's meeting is one the caller's account does not have
// (3001 "Meeting does not exist", as Zoom answers).
type Cloud struct {
	accounts []*Fake
}

// NewCloud serves the accounts on one handler. The first account answers
// what names none of them (an unknown account id, a token no account gave).
// Only the first may hold meetings already: the others' ids are set apart
// here.
func NewCloud(accounts ...*Fake) *Cloud {
	for i, f := range accounts {
		f.mu.Lock()
		if i > 0 && len(f.targets) > 0 {
			f.mu.Unlock()
			panic("zoomtest: make the other accounts' meetings after NewCloud, or their ids may repeat the first's")
		}
		// Ids step by the same amount from different remainders: no two
		// accounts ever make the same id.
		f.nextID += int64(i)
		f.mu.Unlock()
	}
	return &Cloud{accounts: accounts}
}

// ServeHTTP routes a token request by its account_id and an API call by
// the account that issued its token.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.account(r).ServeHTTP(w, r)
}

func (c *Cloud) account(r *http.Request) *Fake {
	if r.URL.Path == "/oauth/token" {
		if err := r.ParseForm(); err == nil {
			for _, f := range c.accounts {
				if f.creds.AccountID == r.PostForm.Get("account_id") {
					return f
				}
			}
		}
		return c.accounts[0]
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	for _, f := range c.accounts {
		if f.issued(tok) {
			return f
		}
	}
	return c.accounts[0]
}

// issued says whether the token is one this account gave, live or not.
func (f *Fake) issued(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.tokens[tok]
	return ok
}
