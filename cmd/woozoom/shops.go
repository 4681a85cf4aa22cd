package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"strings"

	"github.com/spf13/viper"

	"github.com/woozoom/woozoom/store"
)

// ShopConfig is one shop of shops: a name, its WooCommerce side (what it
// leaves out, woocommerce: gives) and its events.
type ShopConfig struct {
	Name        string
	WooCommerce WooCommerceConfig
	Events      []EventConfig
}

// decodeShops reads shops: each entry is woocommerce: with the entry's own
// keys over it, and the entry's events. Read from the raw settings so that
// a key an entry leaves out (customer_note, timeout) keeps woocommerce:'s
// value, defaults included.
func decodeShops(v *viper.Viper) ([]ShopConfig, error) {
	raw, _ := v.Get("shops").([]any)
	base, _ := v.AllSettings()["woocommerce"].(map[string]any)
	var out []ShopConfig
	for i, r := range raw {
		entry, ok := r.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("shops[%d] is not a shop (name, url, consumer_key, consumer_secret, webhook_secret, events)", i)
		}
		wc := maps.Clone(base)
		if wc == nil {
			wc = map[string]any{}
		}
		for k, val := range entry {
			if k != "name" && k != "events" {
				wc[k] = val
			}
		}
		sub := viper.New()
		if err := sub.MergeConfigMap(map[string]any{"woocommerce": wc, "events": entry["events"]}); err != nil {
			return nil, fmt.Errorf("shops[%d]: %w", i, err)
		}
		var s struct {
			WooCommerce WooCommerceConfig `mapstructure:"woocommerce"`
			Events      []EventConfig     `mapstructure:"events"`
		}
		if err := sub.Unmarshal(&s); err != nil {
			return nil, fmt.Errorf("shops[%d]: %w", i, err)
		}
		name, _ := entry["name"].(string)
		shop := ShopConfig{Name: name, WooCommerce: s.WooCommerce, Events: s.Events}
		shop.secretsFromEnv()
		out = append(out, shop)
	}
	return out, nil
}

// shopEnv is the variable that sets a shop's secret, since a list entry has
// no WOOZOOM_ name of its own: WOOZOOM_SHOPS_MUSEUM_CONSUMER_SECRET.
func shopEnv(name, key string) string {
	return strings.ToUpper("WOOZOOM_SHOPS_" + strings.ReplaceAll(name, "-", "_") + "_" + key)
}

func (s *ShopConfig) secretsFromEnv() {
	for key, field := range map[string]*string{
		"consumer_key": &s.WooCommerce.ConsumerKey, "consumer_secret": &s.WooCommerce.ConsumerSecret, "webhook_secret": &s.WooCommerce.WebhookSecret,
	} {
		if v, ok := os.LookupEnv(shopEnv(s.Name, key)); ok {
			*field = v
		}
	}
}

// shops lists the shops, the first (the default) first: shops:, or
// woocommerce: and events: as the shop "default".
func (c Config) shops() []ShopConfig {
	// Without shops: the one shop is this view (the demo points it at its
	// fakes); with them, the list, which every view keeps.
	if len(c.Shops) == 0 {
		return []ShopConfig{{Name: store.DefaultShop, WooCommerce: c.WooCommerce, Events: c.Events}}
	}
	return c.Shops
}

// forShop is the configuration as one shop's work reads it: its
// WooCommerce side and its events.
func (c Config) forShop(s ShopConfig) Config {
	if c.root == nil {
		root := c
		c.root = &root
	}
	c.WooCommerce, c.Events, c.shopName = s.WooCommerce, s.Events, s.Name
	return c
}

// selectShop is the configuration of the named shop (empty: the first).
func (c Config) selectShop(name string) (Config, error) {
	all := c.shops()
	if name == "" {
		return c.forShop(all[0]), nil
	}
	for _, s := range all {
		if s.Name == name {
			return c.forShop(s), nil
		}
	}
	names := make([]string, len(all))
	for i, s := range all {
		names[i] = s.Name
	}
	return c, fmt.Errorf("--shop %s is not a shop of the configuration (%s)", name, strings.Join(names, ", "))
}

// shop names the shop a command works for.
func (c Config) shop() string {
	if c.shopName == "" {
		return store.DefaultShop
	}
	return c.shopName
}

// allEvents are the events of every shop.
func (c Config) allEvents() []EventConfig {
	var out []EventConfig
	for _, s := range c.shops() {
		out = append(out, s.Events...)
	}
	return out
}

// shopsProblems checks every shop: with shops:, woocommerce: holds only
// what the shops share, and each shop has a name of its own.
func (c Config) shopsProblems() []error {
	if len(c.Shops) == 0 {
		return c.shopProblems(func(k string) string { return "woocommerce." + k }, func(k string) string { return envName("woocommerce." + k) }, "")
	}
	var errs []error
	w := c.WooCommerce
	if w.URL != "" || w.ConsumerKey != "" || w.ConsumerSecret != "" || w.WebhookSecret != "" || len(c.Events) > 0 {
		errs = append(errs, errors.New("woocommerce: or events: name a shop beside shops: give every shop under shops (woocommerce: then only holds the settings the shops share)"))
	}
	seen := map[string]bool{}
	for _, s := range c.Shops {
		if !accountName.MatchString(s.Name) {
			errs = append(errs, fmt.Errorf("shops: %q is not a shop name: use lower-case letters, digits, - and _ (it is part of the shop's webhook path)", s.Name))
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("shops: %q is listed twice", s.Name))
		}
		seen[s.Name] = true
		name := s.Name
		errs = append(errs, c.forShop(s).shopProblems(func(k string) string { return fmt.Sprintf("shops[%s].%s", name, k) },
			func(k string) string { return shopEnv(name, k) }, fmt.Sprintf("shops[%s]: ", name))...)
	}
	return errs
}

// shopHealth names the shop in the health components that are a shop's
// (its WooCommerce, its webhooks), so one shop's trouble is not cleared by
// another's answer.
type shopHealth struct {
	t interface {
		Problem(component, summary, detail string)
		OK(component string)
	}
	shop string
}

func (h shopHealth) component(c string) string {
	if c == "woocommerce" || c == "webhooks" {
		return c + ":" + h.shop
	}
	return c
}

func (h shopHealth) Problem(component, summary, detail string) {
	h.t.Problem(h.component(component), "shop "+h.shop+": "+summary, detail)
}

func (h shopHealth) OK(component string) { h.t.OK(h.component(component)) }
