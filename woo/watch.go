package woo

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// WatchHealth hears what is wrong with the webhooks, and when it is not.
type WatchHealth interface {
	Problem(component, summary, detail string)
	OK(component string)
}

// Watch looks at the shop's webhooks after each reconcile pass: one that is
// missing, paused or disabled is a silent outage, so it is logged, told to
// Health (/healthz), counted (NotActive), and with Reactivate set
// re-activated (the pass has just caught up what it missed).
type Watch struct {
	Client *Client
	// Topics are the topics woozoom needs; URL, if set, is where they must
	// deliver.
	Topics     []string
	URL        string
	Reactivate bool
	Health     WatchHealth
	// NotActive, if set, hears how many needed webhooks are not active.
	NotActive func(n int)
	Log       *slog.Logger
}

// Check looks once.
func (w *Watch) Check(ctx context.Context) {
	hooks, err := w.Client.Webhooks(ctx)
	if err != nil {
		if ctx.Err() == nil {
			w.Log.Warn("could not read the shop's webhooks; the next reconcile pass tries again", "err", err)
		}
		return
	}
	var problems []string
	for _, st := range CheckWebhooks(hooks, w.Topics, w.URL) {
		if st.Problem == "" || w.reactivated(ctx, st) {
			continue
		}
		problems = append(problems, st.Problem)
	}
	if w.NotActive != nil {
		w.NotActive(len(problems))
	}
	if len(problems) == 0 {
		w.Health.OK("webhooks")
		return
	}
	fix := "run woozoom webhooks install --url URL"
	if !w.Reactivate {
		fix += ", or set woocommerce.reactivate_webhooks: true"
	}
	w.Health.Problem("webhooks", fmt.Sprintf("%d of the shop's webhooks for woozoom are missing, paused or point elsewhere", len(problems)),
		strings.Join(problems, "; ")+" ("+fix+"; orders are still caught up by the reconcile pass)")
}

// reactivated re-activates a paused or disabled webhook, when told to.
func (w *Watch) reactivated(ctx context.Context, st WebhookState) bool {
	if !w.Reactivate || st.Webhook == nil {
		return false
	}
	active := "active"
	if _, err := w.Client.UpdateWebhook(ctx, st.Webhook.ID, WebhookFields{Status: &active}); err != nil {
		if ctx.Err() == nil {
			w.Log.Error("could not re-activate a webhook", "webhook", st.Webhook.ID, "err", err)
		}
		return false
	}
	w.Log.Warn("re-activated a webhook after the reconcile pass caught up the orders it missed",
		"webhook", st.Webhook.ID, "topic", st.Topic, "was", st.Webhook.Status)
	return true
}
