package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/rules"
	"github.com/woozoom/woozoom/store"
	"github.com/woozoom/woozoom/zoom"
)

func mapCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "map",
		Short: "List, add and remove product-to-Zoom mappings",
		Long: `Mappings link a WooCommerce product (optionally one variation) to a Zoom meeting
or webinar. Mappings from config.yaml's events: are loaded at every start; those
added here are kept until removed here.`,
	}
	cmd.PersistentFlags().StringVar(&database, "database", "", "database: a SQLite file or a postgres:// URL (default: database from the config)")
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List every mapping",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error { return listMappings(ctx, db, out) })
		},
	})
	var f mapFlags
	var fix, noCheck bool
	add := &cobra.Command{
		Use:   "add",
		Short: "Map a product to a meeting or webinar",
		Example: `  woozoom map add --product 812 --meeting "857 4606 5123"
  woozoom map add --product 812 --variation 815 --webinar 91234567890
  woozoom map add --product 840 --day 2 --meeting 81234567890
  woozoom map add --product 850 --slot evening --meeting 81234567890 --occurrences 1764608400000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := f.mapping()
			if err != nil {
				return err
			}
			if !noCheck {
				if err := verifyMapping(cmd.Context(), cfg, m, fix, out); err != nil {
					return err
				}
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error { return addMapping(ctx, db, m, out) })
		},
	}
	f.add(add)
	add.Flags().BoolVar(&fix, "fix", false, "turn on registration (automatic approval) if the meeting has it off")
	add.Flags().BoolVar(&noCheck, "no-check", false, "map without reading the meeting from Zoom")
	remove := &cobra.Command{
		Use:   "remove",
		Short: "Remove a mapping (registrations already made stay)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := f.mapping()
			if err != nil {
				return err
			}
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error { return removeMapping(ctx, db, m, out) })
		},
	}
	f.add(remove)
	cmd.AddCommand(add, remove)
	return cmd
}

// mapFlags are the flags that name a mapping.
type mapFlags struct {
	product, variation                  int64
	day                                 int
	meeting, webinar, slot, occurrences string
	account                             string
}

func (f *mapFlags) add(c *cobra.Command) {
	c.Flags().Int64Var(&f.product, "product", 0, "WooCommerce product id")
	c.Flags().Int64Var(&f.variation, "variation", 0, "variation id (default: every variation)")
	c.Flags().StringVar(&f.meeting, "meeting", "", "Zoom meeting id (spaces allowed: \"857 4606 5123\")")
	c.Flags().StringVar(&f.webinar, "webinar", "", "Zoom webinar id")
	c.Flags().IntVar(&f.day, "day", 0, "day of a multi-day event (1, 2, ...); every day's target is registered")
	c.Flags().StringVar(&f.slot, "slot", "", "only tickets that booked this slot (\"3\", or \"3/1698\" for one date)")
	c.Flags().StringVar(&f.occurrences, "occurrences", "", "occurrence ids of a recurring meeting, comma-separated (default: all)")
	c.Flags().StringVar(&f.account, "zoom-account", "", "the account of zoom_accounts the meeting belongs to (default: the first)")
}

func (f *mapFlags) mapping() (rules.Mapping, error) {
	if f.product <= 0 {
		return rules.Mapping{}, errors.New("--product is required: the WooCommerce product id")
	}
	if (f.meeting == "") == (f.webinar == "") {
		return rules.Mapping{}, errors.New("give exactly one of --meeting or --webinar")
	}
	kind := rules.Meeting
	if f.webinar != "" {
		kind = rules.Webinar
	}
	m, err := rules.ParseMapping(rules.MappingSpec{ProductID: f.product, VariationID: f.variation, Day: f.day, Slot: f.slot,
		Occurrences: f.occurrences, Kind: kind, ID: f.meeting + f.webinar})
	m.ZoomAccount = f.account
	return m, err
}

func listMappings(ctx context.Context, db *store.DB, out io.Writer) error {
	ms, err := db.Mappings(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRODUCT\tVARIATION\tDAY\tSLOT\tTARGET\tID\tOCCURRENCES\tZOOM ACCOUNT\tFROM")
	for _, m := range ms {
		v, day, slot, occ := "any", "-", "any", "all"
		if m.VariationID != 0 {
			v = strconv.FormatInt(m.VariationID, 10)
		}
		if m.Day != 0 {
			day = strconv.Itoa(m.Day)
		}
		if m.Slot != "" {
			slot = m.Slot
		}
		if m.Occurrences != "" {
			occ = m.Occurrences
		}
		account := m.ZoomAccount
		if account == "" {
			account = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", m.ProductID, v, day, slot, m.Target.Kind, m.Target.ID, occ, account, m.Source)
	}
	return tw.Flush()
}

func addMapping(ctx context.Context, db *store.DB, m rules.Mapping, out io.Writer) error {
	added, err := db.AddMapping(ctx, m, store.FromCLI)
	if err != nil {
		return err
	}
	if !added {
		fmt.Fprintf(out, "product %d already maps to %s\n", m.ProductID, m.Target)
		return nil
	}
	fmt.Fprintf(out, "product %d now maps to %s; orders completed before now are not registered by this\n", m.ProductID, m.Target)
	return nil
}

func removeMapping(ctx context.Context, db *store.DB, m rules.Mapping, out io.Writer) error {
	removed, err := db.RemoveMapping(ctx, m)
	if err != nil {
		return err
	}
	if !removed {
		if made, err := db.MadeBy(ctx, m.ProductID, m.Target); err == nil && made {
			return fmt.Errorf("product %d to %s: %s", m.ProductID, m.Target, store.MadeMeetingMessage)
		}
		return fmt.Errorf("no mapping of product %d (variation %d) to %s", m.ProductID, m.VariationID, m.Target)
	}
	fmt.Fprintf(out, "removed: product %d to %s\n", m.ProductID, m.Target)
	return nil
}

// verifyMapping reads a meeting or webinar from Zoom before it is mapped and
// says what it is; one without registration is refused (or, with fix, has
// registration turned on), and so is one whose host cannot take
// registrations.
func verifyMapping(ctx context.Context, cfg configFunc, m rules.Mapping, fix bool, out io.Writer) error {
	t := m.Target
	c, err := cfg(false)
	if err != nil {
		return err
	}
	if !c.zoomConfigured() {
		fmt.Fprintf(out, "%s not checked on Zoom: the configuration names no Zoom app (or use --no-check)\n", t)
		return nil
	}
	a, ok := c.zoomAccount(m.ZoomAccount)
	if !ok {
		return fmt.Errorf("--zoom-account %s is not one of zoom_accounts in the configuration", m.ZoomAccount)
	}
	zc := zoomClient(a, newLogger(c, io.Discard))
	in, err := inspectTarget(ctx, zc, t)
	if in.Meeting.Topic != "" || in.Meeting.HostEmail != "" {
		fmt.Fprintln(out, in.Describe())
	}
	if !errors.Is(err, zoom.ErrRegistrationOff) || !fix {
		if errors.Is(err, zoom.ErrRegistrationOff) {
			return fmt.Errorf("%s has registration off, so Zoom refuses every attendee: in Zoom, edit it and set Registration to Required, or run this again with --fix to turn it on with automatic approval", t)
		}
		return err
	}
	if err := zc.EnableRegistration(ctx, t); err != nil {
		return fmt.Errorf("turn on registration: %w", err)
	}
	fmt.Fprintf(out, "%s: registration turned on (required, automatic approval)\n", t)
	// The host still has to be able to take registrations.
	if _, err := inspectTarget(ctx, zc, t); err != nil {
		return err
	}
	return nil
}
