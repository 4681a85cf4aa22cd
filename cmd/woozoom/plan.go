package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

func planCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var order int64
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what woozoom would do now for an order, without doing it",
		Long: `Read the order as the shop has it now and show the plan: who would be added,
approved or cancelled on which meeting or webinar, and what would be written back
to the order. Nothing is sent to Zoom and nothing is written, in the shop or in
woozoom's database.`,
		Example: "  woozoom plan --order 1234",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if order <= 0 {
				return errors.New("--order is required: the WooCommerce order number")
			}
			_, l, err := openLive(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer closeDB(l.db, &err)
			p, err := l.orders.Preview(cmd.Context(), order)
			if err != nil {
				return err
			}
			for _, line := range p.Lines() {
				fmt.Fprintln(out, line)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&order, "order", 0, "WooCommerce order number")
	return cmd
}
