package zoom

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/woozoom/woozoom/rules"
)

// Owners says which account a meeting belongs to: the account its mapping
// names, else the host woozoom made it for (empty when neither is known).
type Owners interface {
	ZoomAccountOf(ctx context.Context, t rules.Target) (account, host string, err error)
}

// Accounts sends each call to the Zoom account that owns its meeting. Each
// account is its own Client: its token, its pace (Zoom's per-second limits
// are per account), its circuit and its status batches. Meeting ids are
// unique across Zoom, so a meeting names its account for good.
type Accounts struct {
	names   []string // in config order; the first is the default
	clients map[string]*Client
	hosts   map[string]string // a host of made meetings -> its account
	owners  Owners

	mu    sync.Mutex
	known map[rules.Target]string
}

// NewAccounts routes among the accounts added to it; owners may be nil
// with one account.
func NewAccounts(owners Owners) *Accounts {
	return &Accounts{clients: map[string]*Client{}, hosts: map[string]string{}, owners: owners, known: map[rules.Target]string{}}
}

// OneAccount is the router of a single account.
func OneAccount(c *Client) *Accounts {
	a := NewAccounts(nil)
	a.Add(rules.DefaultZoomAccount, c)
	return a
}

// Add adds an account and the hosts it makes meetings for.
func (a *Accounts) Add(name string, c *Client, hosts ...string) {
	a.names = append(a.names, name)
	a.clients[name] = c
	for _, h := range hosts {
		a.hosts[strings.ToLower(strings.TrimSpace(h))] = name
	}
}

// Names lists the accounts, the default first.
func (a *Accounts) Names() []string { return a.names }

// Client returns the named account's client.
func (a *Accounts) Client(name string) (*Client, bool) {
	c, ok := a.clients[name]
	return c, ok
}

// Default is the first account's client: meetings nothing else places.
func (a *Accounts) Default() *Client { return a.clients[a.names[0]] }

// ForHost is the client of the account a host belongs to.
func (a *Accounts) ForHost(host string) *Client {
	if name, ok := a.hosts[strings.ToLower(strings.TrimSpace(host))]; ok {
		return a.clients[name]
	}
	return a.Default()
}

// For is the client of the account that owns t.
func (a *Accounts) For(ctx context.Context, t rules.Target) (*Client, error) {
	name, err := a.NameFor(ctx, t)
	if err != nil {
		return nil, err
	}
	return a.clients[name], nil
}

// NameFor names the account that owns t.
func (a *Accounts) NameFor(ctx context.Context, t rules.Target) (string, error) {
	if len(a.names) == 1 {
		return a.names[0], nil
	}
	a.mu.Lock()
	name, ok := a.known[t]
	a.mu.Unlock()
	if ok {
		return name, nil
	}
	account, host, err := a.owners.ZoomAccountOf(ctx, t)
	if err != nil {
		return "", fmt.Errorf("find the Zoom account of %s: %w", t, err)
	}
	switch {
	case account != "":
		if _, ok := a.clients[account]; !ok {
			return "", fmt.Errorf("%s belongs to Zoom account %q, which config.yaml does not list under zoom_accounts: %w", t, account, rules.ErrPermanent)
		}
		name = account
	case host != "":
		name, ok = a.hosts[strings.ToLower(host)]
		if !ok {
			return a.names[0], nil
		}
	default:
		// Not placed yet (a mapping may still name it): not kept.
		return a.names[0], nil
	}
	a.mu.Lock()
	a.known[t] = name
	a.mu.Unlock()
	return name, nil
}

// AddRegistrant adds a registrant on t's account.
func (a *Accounts) AddRegistrant(ctx context.Context, t rules.Target, p rules.Person, occurrences string) (rules.Seat, error) {
	c, err := a.For(ctx, t)
	if err != nil {
		return rules.Seat{}, err
	}
	return c.AddRegistrant(ctx, t, p, occurrences)
}

// UpdateStatus approves or cancels registrants on t's account.
func (a *Accounts) UpdateStatus(ctx context.Context, slot rules.Slot, t rules.Target, action rules.ActionKind, seats []rules.Seat) error {
	c, err := a.For(ctx, t)
	if err != nil {
		return err
	}
	return c.UpdateStatus(ctx, slot, t, action, seats)
}

// Registrants lists t's registrants of a status.
func (a *Accounts) Registrants(ctx context.Context, t rules.Target, status rules.SeatStatus) ([]rules.Seat, error) {
	c, err := a.For(ctx, t)
	if err != nil {
		return nil, err
	}
	return c.Registrants(ctx, t, status)
}

// Registrant reads one of t's registrants.
func (a *Accounts) Registrant(ctx context.Context, t rules.Target, id string) (rules.Seat, error) {
	c, err := a.For(ctx, t)
	if err != nil {
		return rules.Seat{}, err
	}
	return c.Registrant(ctx, t, id)
}

// Details reads t's details.
func (a *Accounts) Details(ctx context.Context, t rules.Target) (rules.TargetDetails, error) {
	c, err := a.For(ctx, t)
	if err != nil {
		return rules.TargetDetails{}, err
	}
	return c.Details(ctx, t)
}

// Inspect reads t and its host on t's account.
func (a *Accounts) Inspect(ctx context.Context, t rules.Target) (Inspection, error) {
	c, err := a.For(ctx, t)
	if err != nil {
		return Inspection{}, err
	}
	return c.Inspect(ctx, t)
}

// Participants reads who was in an ended instance of t, on t's account.
func (a *Accounts) Participants(ctx context.Context, t rules.Target, uuid string) ([]rules.Participant, error) {
	c, err := a.For(ctx, t)
	if err != nil {
		return nil, err
	}
	return c.Participants(ctx, t, uuid)
}

// Recording reads the cloud recording of an instance of t on t's account.
func (a *Accounts) Recording(ctx context.Context, t rules.Target, uuid string) (rules.Recording, error) {
	c, err := a.For(ctx, t)
	if err != nil {
		return rules.Recording{}, err
	}
	return c.Recording(ctx, t, uuid)
}
