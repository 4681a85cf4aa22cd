package zoom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/woozoom/woozoom/rules"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// renewBefore is how long before expiry a token is replaced (Zoom's own SDK
// uses a minute).
const renewBefore = time.Minute

// TokenSource hands out one cached Server-to-Server OAuth token, shared by
// all callers, renewed a minute before it expires and when Zoom rejects it
// (401 code 124). x/oauth2 does the exchange; Zoom's grant type is
// account_credentials, sent in the form body with Basic auth.
type TokenSource struct {
	conf *clientcredentials.Config
	hc   *http.Client
	now  func() time.Time

	mu    sync.Mutex
	token *oauth2.Token
}

// NewTokenSource returns a token source for the Zoom app's credentials.
func NewTokenSource(cfg Config, hc *http.Client) *TokenSource {
	return &TokenSource{
		conf: &clientcredentials.Config{
			ClientID:     cfg.ClientID,
			ClientSecret: cfg.ClientSecret,
			TokenURL:     cfg.OAuthURL,
			AuthStyle:    oauth2.AuthStyleInHeader,
			EndpointParams: url.Values{
				"grant_type": {"account_credentials"},
				"account_id": {cfg.AccountID},
			},
		},
		hc:  hc,
		now: time.Now,
	}
}

// Token returns a token valid for at least another minute.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != nil && s.token.AccessToken != "" && s.now().Add(renewBefore).Before(s.token.Expiry) {
		return s.token.AccessToken, nil
	}
	tok, err := s.conf.Token(context.WithValue(ctx, oauth2.HTTPClient, s.hc))
	if err != nil {
		return "", classifyTokenError(err)
	}
	s.token = tok
	return tok.AccessToken, nil
}

// Scopes returns the scopes Zoom granted the current token.
func (s *TokenSource) Scopes(ctx context.Context) ([]string, error) {
	if _, err := s.Token(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == nil {
		return nil, nil
	}
	scope, _ := s.token.Extra("scope").(string)
	return strings.Fields(scope), nil
}

// Invalidate drops the cached token if it is still the one given, so that
// the next Token call fetches a new one; concurrent callers that saw the same
// rejection renew it once.
func (s *TokenSource) Invalidate(access string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != nil && s.token.AccessToken == access {
		s.token = nil
	}
}

func classifyTokenError(err error) error {
	const op = "get Zoom access token"
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		e := &Error{Op: op, HTTPStatus: re.Response.StatusCode, Message: string(re.Body)}
		switch {
		case re.Response.StatusCode == http.StatusTooManyRequests:
			e.kind = rules.ErrRateLimited
			e.retryAt = time.Now().Add(time.Second)
		case re.Response.StatusCode >= 500:
			e.kind = rules.ErrTemporary
		default:
			e.kind = rules.ErrCredentials
			e.Message = "Zoom refused the app credentials (check zoom.account_id, zoom.client_id, zoom.client_secret and that the Server-to-Server app is activated): " + string(re.Body)
		}
		return e
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return transportError(op, err)
}
