package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// zoomCommand is what an admin asks Zoom directly.
func zoomCommand(cfg configFunc, out io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "zoom", Short: "Look at the Zoom account"}
	var account string
	users := &cobra.Command{
		Use:   "users",
		Short: "List the account's users and whether each can host registration",
		Long: `List the Zoom account's active users with their type. Zoom takes registrants only
on meetings and webinars of Licensed users: pick one of them as a host.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cfg(true)
			if err != nil {
				return err
			}
			if !c.zoomConfigured() {
				return errors.New("the configuration names no Zoom app: set zoom.account_id, client_id and client_secret")
			}
			a, ok := c.zoomAccount(account)
			if !ok {
				return fmt.Errorf("--zoom-account %s is not one of zoom_accounts in the configuration", account)
			}
			users, err := zoomClient(a, newLogger(c, io.Discard)).Users(cmd.Context())
			if err != nil {
				return fmt.Errorf("list Zoom users: %w", err)
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tTYPE\tCAN HOST REGISTRATION")
			for _, u := range users {
				can := "yes"
				if !u.Licensed() {
					can = "no: Zoom refuses registration on meetings of " + u.TypeName() + " users"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.ID, u.Email, orDash(strings.TrimSpace(u.FirstName+" "+u.LastName)), u.TypeName(), can)
			}
			return tw.Flush()
		},
	}
	users.Flags().StringVar(&account, "zoom-account", "", "the account of zoom_accounts to list (default: the first)")
	cmd.AddCommand(users)
	return cmd
}
