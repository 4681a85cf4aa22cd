package zoom_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/zoom"
	"github.com/woozoom/woozoom/zoom/zoomtest"
	"github.com/woozoom/woozoom/zoom/zoomtest/contract"
)

// owners places meetings as the store would: by a mapping's account, else
// by the host a meeting was made for.
type owners struct {
	account map[rules.Target]string
	host    map[rules.Target]string
	asked   int
}

func (o *owners) ZoomAccountOf(_ context.Context, t rules.Target) (string, string, error) {
	o.asked++
	return o.account[t], o.host[t], nil
}

// cloud serves two accounts at one address behind the spec validator, as
// api.zoom.us serves every account.
func cloud(t *testing.T) (east, west *zoomtest.Fake, clients map[string]*zoom.Client) {
	t.Helper()
	eastCreds := zoomtest.Credentials{AccountID: "acct-east", ClientID: "client-east", ClientSecret: "east-secret"}
	westCreds := zoomtest.Credentials{AccountID: "acct-west", ClientID: "client-west", ClientSecret: "west-secret"}
	east, west = zoomtest.New(eastCreds, fastLimits()), zoomtest.New(westCreds, fastLimits())
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	check, err := contract.NewValidator(srv.URL+"/v2", zoomtest.NewCloud(east, west))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = check
	t.Cleanup(func() {
		for _, v := range check.Violations() {
			t.Errorf("spec violation: %s", v)
		}
	})
	clients = map[string]*zoom.Client{}
	for name, c := range map[string]zoomtest.Credentials{"east": eastCreds, "west": westCreds} {
		clients[name] = zoom.New(zoom.Config{AccountID: c.AccountID, ClientID: c.ClientID, ClientSecret: c.ClientSecret,
			APIURL: srv.URL + "/v2", OAuthURL: srv.URL + "/oauth/token", LightPerSecond: 1000, MediumPerSecond: 1000},
			nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}
	return east, west, clients
}

func TestAccountsSendEachCallToTheMeetingsAccount(t *testing.T) {
	east, west, clients := cloud(t)
	ctx := context.Background()
	onEast := rules.Target{Kind: rules.Meeting, ID: east.CreateMeeting(zoomtest.Meeting{Topic: "East tour", HostEmail: "host@east.example", Duration: 60})}
	onWest := rules.Target{Kind: rules.Webinar, ID: west.CreateMeeting(zoomtest.Meeting{Webinar: true, Topic: "West webinar", HostEmail: "host@west.example", Duration: 60})}
	if onEast.ID == onWest.ID {
		t.Fatalf("two accounts made the same meeting id %d", onEast.ID)
	}
	// One account cannot reach another's meeting, as on Zoom.
	if _, err := clients["east"].Details(ctx, onWest); !errors.Is(err, rules.ErrNotFound) {
		t.Fatalf("east read west's webinar: %v, want not found", err)
	}

	o := &owners{account: map[rules.Target]string{onWest: "west"}}
	a := zoom.NewAccounts(o)
	a.Add("east", clients["east"], "host@east.example")
	a.Add("west", clients["west"], "Host@West.example")
	rita := rules.Person{FirstName: "Rita", LastName: "Doro", Email: "rita@example.org"}
	for _, tg := range []rules.Target{onEast, onWest} {
		if _, err := a.AddRegistrant(ctx, tg, rita, ""); err != nil {
			t.Fatalf("add on %s: %v", tg, err)
		}
	}
	if _, ok := east.Registrant(onEast.ID, rita.Email); !ok {
		t.Error("rita is not on east's meeting")
	}
	if _, ok := west.Registrant(onWest.ID, rita.Email); !ok {
		t.Error("rita is not on west's webinar")
	}
	asked := o.asked
	if _, err := a.Details(ctx, onWest); err != nil {
		t.Fatal(err)
	}
	if o.asked != asked {
		t.Errorf("the account of a placed meeting was looked up again (%d lookups, want %d)", o.asked, asked)
	}

	// A meeting woozoom makes goes to its host's account, and is placed by
	// that host afterwards.
	made, err := zoom.EventMeetings{Accounts: a}.CreateMeeting(ctx, rules.EventMeeting{Kind: rules.Meeting, Host: "host@west.example",
		Topic: "Made", Start: time.Now().Add(48 * time.Hour), Duration: 30, Timezone: "UTC"}, "woozoom ref x")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := west.Meeting(made.Target.ID); !ok {
		t.Fatalf("the meeting made for west's host is not on west")
	}
	o.host = map[rules.Target]string{made.Target: "HOST@west.example"}
	if _, err := a.Details(ctx, made.Target); err != nil {
		t.Fatalf("read the made meeting through its host's account: %v", err)
	}

	// A mapping naming an account config.yaml no longer lists is a
	// person's to fix, not a call to the wrong account.
	gone := rules.Target{Kind: rules.Meeting, ID: 42}
	o.account[gone] = "north"
	if _, err := a.Details(ctx, gone); !errors.Is(err, rules.ErrPermanent) {
		t.Fatalf("an unlisted account: %v, want a permanent error", err)
	}
}
