package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/woozoom/woozoom/woo"
)

// shopClient builds the REST client of the configured shop, without a
// database; the WooCommerce part of the configuration must be complete.
func shopClient(c Config, log *slog.Logger) (*woo.Client, error) {
	var missing []string
	for _, k := range []struct{ key, val string }{
		{"woocommerce.url", c.WooCommerce.URL}, {"woocommerce.consumer_key", c.WooCommerce.ConsumerKey},
		{"woocommerce.consumer_secret", c.WooCommerce.ConsumerSecret},
	} {
		if strings.TrimSpace(k.val) == "" {
			missing = append(missing, k.key)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("set %s in the configuration first", strings.Join(missing, ", "))
	}
	hc, err := httpClient(c.WooCommerce)
	if err != nil {
		return nil, err
	}
	return woo.New(woo.Config{URL: c.WooCommerce.URL, ConsumerKey: c.WooCommerce.ConsumerKey,
		ConsumerSecret: c.WooCommerce.ConsumerSecret, Timeout: c.WooCommerce.Timeout}, hc, log)
}

// neededTopics are the webhook topics the configuration needs: product
// topics too when events make meetings from products (or follow them).
func neededTopics(c Config) []string {
	for _, e := range c.Events {
		if e.Create != "" || e.Follow {
			return append(slices.Clone(woo.OrderTopics), woo.ProductTopics...)
		}
	}
	return woo.OrderTopics
}

func webhooksCommand(cfg configFunc, out io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhooks",
		Short: "Create and check the WooCommerce webhooks woozoom needs",
		Long: `woozoom needs one active WooCommerce webhook for each of order.created,
order.updated, order.deleted and order.restored (and, when events make
meetings from products, product.created, product.updated, product.deleted
and product.restored), each signed with woocommerce.webhook_secret and
pointing at woozoom's /webhooks/woocommerce.
"install" creates or corrects them through the REST API; "status" shows them.`,
	}
	var url string
	var skipReach bool
	installCmd := &cobra.Command{
		Use:   "install",
		Short: "Create the webhooks woozoom needs, or correct them; running it again changes nothing",
		Long: `Create, through the WooCommerce REST API, the webhooks woozoom needs, each with
the configured secret, API version 3 and status active. A webhook of woozoom's
that points elsewhere is pointed at --url, a paused or disabled one is
activated. Webhooks that are right are left alone, so running it twice
changes nothing.

Start woozoom first. A webhook created through the REST API is active
whatever its ping answered, so WooCommerce starts delivering to --url at
once; if nothing there answers, every delivery fails and after a few
failures in a row (seven on a real WooCommerce) it disables the webhook. (A
failed ping only makes WooCommerce ping again at the webhook's next save.)
So install first checks that --url reaches woozoom, by sending the same ping
and wanting woozoom's answer, before it creates anything (--skip-reach-check
when the URL is reachable only from the shop, e.g. a container name).`,
		Example: `  woozoom webhooks install --url https://shop.example.com/woozoom/webhooks/woocommerce`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cfg(true)
			if err != nil {
				return err
			}
			return install(cmd.Context(), c, url, skipReach, out)
		},
	}
	installCmd.Flags().StringVar(&url, "url", "", "the delivery URL: where the shop reaches woozoom's /webhooks/woocommerce (default: woocommerce.webhook_url)")
	installCmd.Flags().BoolVar(&skipReach, "skip-reach-check", false, "create the webhooks without first checking that the URL answers")

	var statusURL string
	status := &cobra.Command{
		Use:   "status",
		Short: "List the webhooks woozoom needs with their status; exit 1 if one is missing, paused or disabled",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cfg(true)
			if err != nil {
				return err
			}
			return webhookStatus(cmd.Context(), c, statusURL, out)
		},
	}
	status.Flags().StringVar(&statusURL, "url", "", "the delivery URL they must point at (default: woocommerce.webhook_url; empty: any URL ending in /webhooks/woocommerce)")
	cmd.AddCommand(installCmd, status)
	return cmd
}

// install checks where the webhooks are to deliver, that woozoom answers
// there, and brings the shop's webhooks to what woozoom needs.
func install(ctx context.Context, c Config, url string, skipReach bool, out io.Writer) error {
	if url == "" {
		url = c.WooCommerce.WebhookURL
	}
	if url == "" {
		return errors.New("--url is required (or set woocommerce.webhook_url): the address at which the shop reaches woozoom's /webhooks/woocommerce")
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return fmt.Errorf("--url %q must start with http:// or https://", url)
	}
	if len(c.Shops) > 0 && strings.HasSuffix(strings.TrimRight(url, "/"), woo.DeliveryPath) {
		// Each of several shops delivers to its own path.
		url = strings.TrimRight(url, "/") + "/" + c.shop()
	}
	if strings.TrimSpace(c.WooCommerce.WebhookSecret) == "" {
		return errors.New("set woocommerce.webhook_secret first: the webhooks are created with it")
	}
	wc, err := shopClient(c, newLogger(c, io.Discard))
	if err != nil {
		return err
	}
	if !skipReach {
		if err := reachesWoozoom(ctx, url); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s answers WooCommerce's ping\n", url)
	}
	return installWebhooks(ctx, wc, neededTopics(c), url, c.WooCommerce.WebhookSecret, out)
}

// webhookStatus lists the webhooks woozoom needs with their status, and
// fails if one needs attention.
func webhookStatus(ctx context.Context, c Config, url string, out io.Writer) error {
	if url == "" {
		url = c.WooCommerce.WebhookURL
	}
	wc, err := shopClient(c, newLogger(c, io.Discard))
	if err != nil {
		return err
	}
	hooks, err := wc.Webhooks(ctx)
	if err != nil {
		return err
	}
	states := woo.CheckWebhooks(hooks, neededTopics(c), url)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tWEBHOOK\tSTATUS\tDELIVERY URL")
	var problems []string
	for _, st := range states {
		id, s, u := "-", "missing", "-"
		if st.Webhook != nil {
			id, s, u = fmt.Sprint(st.Webhook.ID), st.Webhook.Status, st.Webhook.DeliveryURL
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", st.Topic, id, s, u)
		if st.Problem != "" {
			problems = append(problems, st.Problem)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range problems {
		fmt.Fprintf(out, "problem: %s\n", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d of %d webhooks need attention: run woozoom webhooks install --url URL", len(problems), len(states))
	}
	return nil
}

// installWebhooks brings the shop's webhooks to what woozoom needs.
func installWebhooks(ctx context.Context, wc *woo.Client, topics []string, url, secret string, out io.Writer) error {
	hooks, err := wc.Webhooks(ctx)
	if err != nil {
		return err
	}
	changes := woo.PlanWebhooks(hooks, topics, url)
	for _, ch := range changes {
		topic, name, active := ch.Topic, woo.WebhookName(ch.Topic), "active"
		f := woo.WebhookFields{Secret: &secret}
		if ch.ID == 0 {
			f.Name, f.Topic, f.DeliveryURL, f.Status = &name, &topic, &url, &active
			h, err := wc.CreateWebhook(ctx, f)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "created webhook %d for %s\n", h.ID, topic)
			continue
		}
		if ch.SetURL {
			f.DeliveryURL = &url
		}
		if ch.Activate {
			f.Status = &active
		}
		if _, err := wc.UpdateWebhook(ctx, ch.ID, f); err != nil {
			return err
		}
		fmt.Fprintf(out, "corrected webhook %d for %s (%s)\n", ch.ID, topic, ch.Why)
	}
	if len(changes) == 0 {
		fmt.Fprintf(out, "all %d webhooks are in place and active; nothing changed\n", len(topics))
	}
	return nil
}

// reachesWoozoom sends the ping WooCommerce sends when a webhook is saved
// and wants the answer only woozoom gives.
func reachesWoozoom(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("webhook_id=0"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "woozoom webhooks install")
	hint := "start woozoom first and check the proxy path: WooCommerce makes the webhooks active and delivers to this URL at once, and disables a webhook whose deliveries keep failing (or pass --skip-reach-check if only the shop can reach it)"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s does not reach woozoom: %w: %s", url, err, hint)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&body)
	if resp.StatusCode != http.StatusOK || body.Status != "pong" {
		return fmt.Errorf("%s answered %d, not woozoom's ping answer: %s", url, resp.StatusCode, hint)
	}
	return nil
}
