package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/woozoom/woozoom/rules"
)

// ZoomAccountConfig is one Zoom account of zoom_accounts: a name and its
// Server-to-Server app. What it leaves out (api_url, timeout, limits) it
// takes from the zoom: section.
type ZoomAccountConfig struct {
	Name       string `mapstructure:"name"`
	ZoomConfig `mapstructure:",squash"`
}

var accountName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// zoomAccounts lists the Zoom accounts, the default (first) one first:
// zoom_accounts, or the zoom: section alone as the account "default".
func (c Config) zoomAccounts() []ZoomAccountConfig {
	if len(c.ZoomAccounts) == 0 {
		return []ZoomAccountConfig{{Name: rules.DefaultZoomAccount, ZoomConfig: c.Zoom}}
	}
	out := make([]ZoomAccountConfig, len(c.ZoomAccounts))
	for i, a := range c.ZoomAccounts {
		z, d := &a.ZoomConfig, c.Zoom
		z.APIURL = cmpOr(z.APIURL, d.APIURL)
		z.OAuthURL = cmpOr(z.OAuthURL, d.OAuthURL)
		z.Timeout = cmpOr(z.Timeout, d.Timeout)
		z.LightPerSecond = cmpOr(z.LightPerSecond, d.LightPerSecond)
		z.MediumPerSecond = cmpOr(z.MediumPerSecond, d.MediumPerSecond)
		z.MaxShare = cmpOr(z.MaxShare, d.MaxShare)
		z.HostDailyLimit = cmpOr(z.HostDailyLimit, d.HostDailyLimit)
		out[i] = a
	}
	return out
}

func cmpOr[T comparable](v, d T) T {
	var zero T
	if v == zero {
		return d
	}
	return v
}

// accountKey names a setting of account a as config.yaml spells it.
func (c Config) accountKey(a ZoomAccountConfig, key string) string {
	if len(c.ZoomAccounts) == 0 {
		return "zoom." + key
	}
	return fmt.Sprintf("zoom_accounts[%s].%s", a.Name, key)
}

// accountEnv is the variable that sets an account's secret, since a list
// entry has no WOOZOOM_ name of its own: WOOZOOM_ZOOM_ACCOUNTS_EAST_CLIENT_SECRET.
func accountEnv(name, key string) string {
	return strings.ToUpper("WOOZOOM_ZOOM_ACCOUNTS_" + strings.ReplaceAll(name, "-", "_") + "_" + key)
}

// accountSecretsFromEnv sets the accounts' secrets given in the environment.
func (c *Config) accountSecretsFromEnv() {
	for i := range c.ZoomAccounts {
		a := &c.ZoomAccounts[i]
		if v, ok := os.LookupEnv(accountEnv(a.Name, "client_secret")); ok {
			a.ClientSecret = v
		}
		if v, ok := os.LookupEnv(accountEnv(a.Name, "webhook_secret_token")); ok {
			a.WebhookSecretToken = v
		}
	}
}

// zoomProblems checks the Zoom accounts and the accounts events name.
func (c Config) zoomProblems() []error {
	var errs []error
	if len(c.ZoomAccounts) > 0 && (c.Zoom.AccountID != "" || c.Zoom.ClientID != "" || c.Zoom.ClientSecret != "" || c.Zoom.WebhookSecretToken != "") {
		errs = append(errs, errors.New("zoom: names an app beside zoom_accounts: give every app under zoom_accounts (zoom: then only holds the settings the accounts share)"))
	}
	names := map[string]bool{}
	for _, a := range c.zoomAccounts() {
		if !accountName.MatchString(a.Name) {
			errs = append(errs, fmt.Errorf("zoom_accounts: %q is not an account name: use lower-case letters, digits, - and _ (it is part of the account's webhook path)", a.Name))
		}
		if names[a.Name] {
			errs = append(errs, fmt.Errorf("zoom_accounts: %q is listed twice", a.Name))
		}
		names[a.Name] = true
		errs = append(errs, c.accountProblems(a)...)
	}
	hosts := map[string]string{}
	for i, e := range c.allEvents() {
		account := cmpOr(e.ZoomAccount, c.zoomAccounts()[0].Name)
		if !names[account] {
			errs = append(errs, fmt.Errorf("events[%d] (product %d): zoom_account %q is not one of zoom_accounts", i, e.ProductID, e.ZoomAccount))
			continue
		}
		host := strings.ToLower(strings.TrimSpace(e.Host))
		if other, ok := hosts[host]; e.Create != "" && ok && other != account {
			errs = append(errs, fmt.Errorf("events[%d] (product %d): host %s is given under Zoom accounts %q and %q; a Zoom user belongs to one account", i, e.ProductID, e.Host, other, account))
		}
		if e.Create != "" {
			hosts[host] = account
		}
	}
	return errs
}

// accountProblems checks one account's app and settings.
func (c Config) accountProblems(a ZoomAccountConfig) []error {
	var errs []error
	for _, k := range []struct{ key, val, why string }{
		{"account_id", a.AccountID, "the Account ID of the Zoom Server-to-Server OAuth app"},
		{"client_id", a.ClientID, "the Client ID of that app"},
		{"client_secret", a.ClientSecret, "the Client Secret of that app"},
	} {
		if strings.TrimSpace(k.val) == "" {
			env := envName("zoom." + k.key)
			if len(c.ZoomAccounts) > 0 {
				env = accountEnv(a.Name, k.key)
			}
			errs = append(errs, fmt.Errorf("%s is required: %s (or set %s)", c.accountKey(a, k.key), k.why, env))
		}
	}
	for _, k := range []struct{ key, val string }{{"api_url", a.APIURL}, {"oauth_url", a.OAuthURL}} {
		if u, err := url.Parse(k.val); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("%s %q is not an http(s) URL", c.accountKey(a, k.key), k.val))
		}
	}
	if a.MaxShare <= 0 || a.MaxShare > 1 {
		errs = append(errs, fmt.Errorf("%s is %g; use more than 0 and at most 1 (the part of the account's Zoom rate limits woozoom may use)", c.accountKey(a, "max_share"), a.MaxShare))
	}
	if a.LightPerSecond < 0 || a.MediumPerSecond < 0 {
		errs = append(errs, fmt.Errorf("%s and medium_per_second must not be negative (0: no cap)", c.accountKey(a, "light_per_second")))
	}
	return errs
}

// accountOf names the account of an event: its zoom_account, else the
// default one.
func (c Config) accountOf(e EventConfig) string {
	return cmpOr(e.ZoomAccount, c.zoomAccounts()[0].Name)
}

// zoomSecrets are the accounts' webhook Secret Tokens by account name, for
// /webhooks/zoom/{account}.
func (c Config) zoomSecrets() map[string]string {
	out := map[string]string{}
	for _, a := range c.zoomAccounts() {
		if a.WebhookSecretToken != "" {
			out[a.Name] = a.WebhookSecretToken
		}
	}
	return out
}

// zoomAccount is the named account (empty: the default one).
func (c Config) zoomAccount(name string) (ZoomAccountConfig, bool) {
	all := c.zoomAccounts()
	if name == "" {
		return all[0], true
	}
	for _, a := range all {
		if a.Name == name {
			return a, true
		}
	}
	return ZoomAccountConfig{}, false
}

// zoomLabel names an account in what check says: "Zoom" alone with one.
func (c Config) zoomLabel(name string) string {
	if len(c.ZoomAccounts) == 0 {
		return "Zoom"
	}
	return "Zoom account " + name
}

// accountMappings are the mappings to meetings of the named account.
func (c Config) accountMappings(name string, ms []rules.Mapping) []rules.Mapping {
	var out []rules.Mapping
	for _, m := range ms {
		if cmpOr(m.ZoomAccount, c.zoomAccounts()[0].Name) == name {
			out = append(out, m)
		}
	}
	return out
}
