package wootest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// authenticate checks a REST request as WooCommerce's WC_REST_Authentication
// does and returns the error code and message of a refusal, or "".
//
// Over HTTPS the key comes as Basic auth or as consumer_key/consumer_secret
// query parameters. Over plain HTTP WordPress does not look at either: the
// request must carry a one-legged OAuth 1.0a signature (query string or
// Authorization header), with a timestamp within 15 minutes and a nonce not
// used before.
func (s *Shop) authenticate(r *http.Request) (code, msg string) {
	if r.TLS != nil {
		return s.basicAuth(r)
	}
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[len(v)-1] // PHP's $_GET keeps the last
	}
	for k, v := range oauthHeader(r.Header.Get("Authorization")) {
		params[k] = v
	}
	var missing []string
	for _, k := range []string{"oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature", "oauth_signature_method"} {
		if params[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) == 5 {
		// Not even trying OAuth: anonymous, so the route refuses.
		return "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
	}
	if len(missing) > 0 {
		return "woocommerce_rest_authentication_missing_parameter", "Missing OAuth parameter(s) " + strings.Join(missing, ", ")
	}
	if params["oauth_consumer_key"] != s.ConsumerKey {
		return "woocommerce_rest_authentication_error", "Consumer key is invalid."
	}
	if code, msg := s.checkSignature(r, params); code != "" {
		return code, msg
	}
	return s.checkFresh(params["oauth_timestamp"], params["oauth_nonce"])
}

// basicAuth checks the REST key sent over HTTPS.
func (s *Shop) basicAuth(r *http.Request) (code, msg string) {
	key, secret, ok := r.BasicAuth()
	if !ok {
		key, secret = r.URL.Query().Get("consumer_key"), r.URL.Query().Get("consumer_secret")
	}
	switch {
	case key == "" && secret == "":
		return "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."
	case key != s.ConsumerKey:
		return "woocommerce_rest_authentication_error", "Consumer key is invalid."
	case subtle.ConstantTimeCompare([]byte(secret), []byte(s.ConsumerSecret)) != 1:
		return "woocommerce_rest_authentication_error", "Consumer secret is invalid."
	}
	return "", ""
}

// checkSignature recomputes the OAuth 1.0a signature over the request's
// parameters (all but the signature itself), as WooCommerce does.
func (s *Shop) checkSignature(r *http.Request, params map[string]string) (code, msg string) {
	given, _ := url.PathUnescape(strings.ReplaceAll(params["oauth_signature"], " ", "+"))
	var h func() hash.Hash
	switch params["oauth_signature_method"] {
	case "HMAC-SHA1":
		h = sha1.New
	case "HMAC-SHA256":
		h = sha256.New
	default:
		return "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid."
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "oauth_signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = rawurlencode(rawurlencode(k) + "=" + rawurlencode(params[k]))
	}
	base := strings.ToUpper(r.Method) + "&" + rawurlencode("http://"+r.Host+r.URL.EscapedPath()) + "&" + strings.Join(pairs, "%26")
	mac := hmac.New(h, []byte(s.ConsumerSecret+"&"))
	mac.Write([]byte(base))
	if !hmac.Equal([]byte(base64.StdEncoding.EncodeToString(mac.Sum(nil))), []byte(given)) {
		return "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
	}
	return "", ""
}

// checkFresh refuses a timestamp outside 15 minutes of now and a nonce
// used before.
func (s *Shop) checkFresh(timestamp, nonce string) (code, msg string) {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	now := s.Now().Unix()
	const window = 15 * 60
	if err != nil || ts < now-window || ts > now+window {
		return "woocommerce_rest_authentication_error", "Invalid timestamp."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nonces == nil {
		s.nonces = map[string]int64{}
	}
	for n, at := range s.nonces {
		if at < now-window {
			delete(s.nonces, n)
		}
	}
	if _, used := s.nonces[nonce]; used {
		return "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used."
	}
	s.nonces[nonce] = ts
	return "", ""
}

var reOAuthParam = regexp.MustCompile(`(oauth_[a-z_-]*)=(?:"([^"]*)"|([^,]*))`)

// oauthHeader reads "Authorization: OAuth k="v", ..." as WooCommerce's
// parse_header does.
func oauthHeader(h string) map[string]string {
	out := map[string]string{}
	if !strings.HasPrefix(h, "OAuth ") {
		return out
	}
	for _, m := range reOAuthParam.FindAllStringSubmatch(h, -1) {
		v := m[2]
		if v == "" {
			v = m[3]
		}
		out[m[1]], _ = url.QueryUnescape(v)
	}
	return out
}

// rawurlencode is PHP's: every byte but A-Z a-z 0-9 - _ . ~ as %XX.
func rawurlencode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
