package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/access"

	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/woo"
	"github.com/woozoom/woozoom/zoom"
)

// report collects check results: one line per finding, problems saying
// what is wrong and how to fix it.
type report struct {
	out      io.Writer
	problems int
}

func (r *report) ok(format string, args ...any) {
	fmt.Fprintf(r.out, "ok       "+format+"\n", args...)
}

func (r *report) problem(format string, args ...any) {
	r.problems++
	fmt.Fprintf(r.out, "PROBLEM  "+format+"\n", args...)
}

// checkOnline talks to Zoom and the shop with the configuration, as the
// sidecar would, and reports every problem it finds.
func checkOnline(ctx context.Context, c Config, out io.Writer) error {
	r := &report{out: out}
	log := newLogger(c, io.Discard)
	mappings, dbErr := allMappings(ctx, c)
	if dbErr != nil {
		// The database may belong to the service's user: check what the
		// configuration names, and say what was left out.
		var err error
		if mappings, err = c.Mappings(); err != nil {
			return err
		}
		r.problem("the database %s cannot be read (%v): mappings added with woozoom map add are not checked; run check as the service's user", store.Redacted(c.Database), dbErr)
	}

	clients := map[string]*zoom.Client{}
	for _, a := range c.zoomAccounts() {
		clients[a.Name] = zoomClient(a, log)
		checkZoom(ctx, r, clients[a.Name], c.zoomLabel(a.Name), c.accountMappings(a.Name, mappings), c.recordingsOn())
	}

	if wc, err := shopClient(c, log); err != nil {
		r.problem("WooCommerce: %v", err)
	} else {
		checkShop(ctx, r, wc, c)
		checkMaking(ctx, r, clients, wc, c)
	}
	if r.problems > 0 {
		return fmt.Errorf("%d problem(s) found; fix them and run woozoom check again", r.problems)
	}
	fmt.Fprintln(out, "everything checked is in order")
	return nil
}

// zoomClient is a Zoom client for a command run by an admin: it tries
// once, and tells Zoom's refusals straight away.
// zoomClient is a command's client of one Zoom account.
func zoomClient(a ZoomAccountConfig, log *slog.Logger) *zoom.Client {
	z := a.ZoomConfig
	return zoom.New(zoom.Config{
		AccountID: z.AccountID, ClientID: z.ClientID, ClientSecret: z.ClientSecret,
		APIURL: z.APIURL, OAuthURL: z.OAuthURL, Timeout: z.Timeout,
		LightPerSecond: z.LightPerSecond, MediumPerSecond: z.MediumPerSecond, MaxShare: z.MaxShare, Retries: 1,
	}, nil, log.With("zoom_account", a.Name))
}

// zoomConfigured reports whether the configuration names a Zoom app.
func (c Config) zoomConfigured() bool {
	a := c.zoomAccounts()[0]
	return a.AccountID != "" && a.ClientID != "" && a.ClientSecret != ""
}

// checkTemplates renders the note, withdrawn and meta templates against a
// sample order and shows the result, so a template that parses but says
// the wrong thing is seen before a customer sees it.
func checkTemplates(c Config, out io.Writer) error {
	tm, err := c.templates()
	if err != nil {
		return err
	}
	sample := access.Sample()
	for _, t := range []struct {
		name   string
		render func(access.Note) (string, error)
		note   access.Note
	}{
		{"access note", tm.Note, sample},
		{"withdrawn note", tm.Withdrawn, access.Note{OrderID: sample.OrderID, Status: "cancelled", Reason: "because the order is cancelled", Entries: sample.Entries}},
		{"meta text", tm.Meta, sample},
	} {
		text, err := t.render(t.note)
		if err != nil {
			return fmt.Errorf("the %s template fails on a sample order: %w", t.name, err)
		}
		fmt.Fprintf(out, "%s for a sample order:\n  %s\n", t.name, strings.ReplaceAll(text, "\n", "\n  "))
	}
	for _, attended := range []bool{true, false} {
		a := access.SampleAttended()
		a.Attended = attended
		if !attended {
			a.Minutes = 0
		}
		text, ok, err := tm.Thanks(a)
		if err != nil {
			return fmt.Errorf("the thanks template fails on a sample attendee: %w", err)
		}
		if ok {
			fmt.Fprintf(out, "thanks note after the event, attended %v:\n  %s\n", attended, strings.ReplaceAll(text, "\n", "\n  "))
		}
	}
	return nil
}

// allMappings are the mappings of config.yaml and, if the database exists,
// those added with woozoom map add.
func allMappings(ctx context.Context, c Config) (ms []rules.Mapping, err error) {
	if ms, err = c.Mappings(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.Database); err != nil && !store.IsPostgres(c.Database) {
		return ms, nil
	}
	db, err := store.Open(ctx, c.Database)
	if err != nil {
		return nil, err
	}
	defer closeDB(db, &err)
	stored, err := db.Shop(c.shop()).Mappings(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range stored {
		if m.Source != store.FromConfig {
			ms = append(ms, m.Mapping)
		}
	}
	return ms, nil
}

func checkZoom(ctx context.Context, r *report, zc *zoom.Client, label string, mappings []rules.Mapping, recordings bool) {
	have, err := zc.Scopes(ctx)
	if err != nil {
		r.problem("%s: no access token: %v", label, err)
		return
	}
	r.ok("%s: the Server-to-Server app gets an access token", label)
	meetings, webinars := len(mappings) == 0, false
	for _, m := range mappings {
		meetings = meetings || m.Target.Kind == rules.Meeting
		webinars = webinars || m.Target.Kind == rules.Webinar
	}
	need := zoom.NeededScopes(meetings, webinars)
	if recordings {
		need = append(need, zoom.RecordingScope)
	}
	missing := zoom.MissingScopes(have, need)
	for _, s := range missing {
		r.problem("%s: the app lacks the scope %s (to %s): add it under Scopes in the Zoom App Marketplace and activate the app again", label, s.Name, s.For)
	}
	if len(missing) == 0 {
		r.ok("%s: the app has every scope woozoom uses", label)
	}
	var seen []rules.Target
	for _, m := range mappings {
		if slices.Contains(seen, m.Target) || !m.Target.OnZoom() {
			continue
		}
		seen = append(seen, m.Target)
		what := fmt.Sprintf("%s (product %d)", m.Target, m.ProductID)
		in, err := zc.Inspect(ctx, m.Target)
		switch {
		case errors.Is(err, zoom.ErrTargetGone):
			r.problem("%s: %s does not exist (deleted, or a typo): map the product to the right %s", label, what, m.Target.Kind)
		case err != nil:
			r.problem("%s: cannot read %s: %v", label, what, err)
		case in.Problem() != nil:
			r.problem("%s: product %d: %v", label, m.ProductID, in.Problem())
		case !in.HostRead:
			r.ok("%s: %s %q takes registrations (host not checked)", label, what, in.Meeting.Topic)
		default:
			r.ok("%s: %s %q takes registrations; host %s is Licensed", label, what, in.Meeting.Topic, in.Host.Email)
		}
	}
}

func checkShop(ctx context.Context, r *report, wc *woo.Client, c Config) {
	if _, _, err := wc.OrdersModifiedSince(ctx, time.Now().Add(-time.Minute), 1); err != nil {
		r.problem("WooCommerce: the REST key does not work: %v", err)
		return
	}
	r.ok("WooCommerce: the REST key reads orders")
	hooks, err := wc.Webhooks(ctx)
	if err != nil {
		r.problem("WooCommerce: cannot list the webhooks: %v", err)
		return
	}
	fix := "woozoom webhooks install --url URL"
	if c.WooCommerce.WebhookURL != "" {
		fix = "woozoom webhooks install"
	}
	for _, st := range woo.CheckWebhooks(hooks, neededTopics(c), c.WooCommerce.WebhookURL) {
		if st.Problem != "" {
			r.problem("WooCommerce: %s: run %s", st.Problem, fix)
			continue
		}
		r.ok("WooCommerce: webhook %d delivers %s to %s", st.Webhook.ID, st.Topic, st.Webhook.DeliveryURL)
	}
}

func describe(cfg Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen:                       %s\n", cfg.Listen)
	fmt.Fprintf(&b, "database:                     %s\n", store.Redacted(cfg.Database))
	fmt.Fprintf(&b, "woocommerce.url:              %s\n", cfg.WooCommerce.URL)
	fmt.Fprintf(&b, "woocommerce.consumer_key:     %s\n", redact(cfg.WooCommerce.ConsumerKey))
	fmt.Fprintf(&b, "woocommerce.consumer_secret:  %s\n", redact(cfg.WooCommerce.ConsumerSecret))
	fmt.Fprintf(&b, "woocommerce.webhook_secret:   %s\n", redact(cfg.WooCommerce.WebhookSecret))
	fmt.Fprintf(&b, "woocommerce.customer_note:    %v\n", cfg.WooCommerce.CustomerNote)
	fmt.Fprintf(&b, "woocommerce.webhook_url:      %s\n", orNone(cfg.WooCommerce.WebhookURL))
	fmt.Fprintf(&b, "woocommerce.reactivate_webhooks: %v\n", cfg.WooCommerce.ReactivateWebhooks)
	fmt.Fprintf(&b, "zoom.account_id:              %s\n", redact(cfg.Zoom.AccountID))
	fmt.Fprintf(&b, "zoom.client_id:               %s\n", redact(cfg.Zoom.ClientID))
	fmt.Fprintf(&b, "zoom.client_secret:           %s\n", redact(cfg.Zoom.ClientSecret))
	fmt.Fprintf(&b, "zoom.api_url:                 %s\n", cfg.Zoom.APIURL)
	fmt.Fprintf(&b, "zoom.oauth_url:               %s\n", cfg.Zoom.OAuthURL)
	fmt.Fprintf(&b, "statuses.register:            %s\n", strings.Join(cfg.Statuses.Register, ", "))
	fmt.Fprintf(&b, "statuses.cancel:              %s\n", strings.Join(cfg.Statuses.Cancel, ", "))
	fmt.Fprintf(&b, "events:                       %d\n", len(cfg.Events))
	return b.String()
}

func orNone(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}

// checkCommand checks the configuration, then Zoom and the shop with it.
func checkCommand(cfg configFunc, stdout io.Writer) *cobra.Command {
	var offline bool
	checkCmd := &cobra.Command{
		Use:   "check",
		Short: "Check the configuration, then Zoom and the shop with it; secrets are never shown",
		Long: `Validate the configuration and show it, secrets hidden. Then, unless --offline,
talk to both services as the sidecar would:

  Zoom         an access token is minted; the app has the scopes woozoom uses;
               every mapped meeting and webinar exists, takes registrations,
               and has a Licensed host
  WooCommerce  the REST key reads orders; a webhook for each topic woozoom
               needs exists, is active and points at woozoom

Each problem is one line that says what is wrong and how to fix it. The exit
status is 1 when anything is wrong.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cfg(true)
			if err != nil {
				return err
			}
			fmt.Fprint(stdout, describe(c))
			if err := c.Validate(); err != nil {
				return fmt.Errorf("the configuration has problems:\n%w", err)
			}
			fmt.Fprintln(stdout, "configuration OK")
			if err := checkTemplates(c, stdout); err != nil {
				return err
			}
			if offline {
				return nil
			}
			return checkOnline(cmd.Context(), c, stdout)
		},
	}
	checkCmd.Flags().BoolVar(&offline, "offline", false, "check the configuration only; talk to neither Zoom nor the shop")

	return checkCmd
}
