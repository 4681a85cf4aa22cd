package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/woozoom/woozoom/store"
)

func backupCommand(cfg configFunc, out io.Writer) *cobra.Command {
	var database string
	cmd := &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a consistent copy of the database to FILE, safe while woozoom serves",
		Long: `Copy the live database to FILE through SQLite's online backup API. The copy is
consistent (every delivery with its job) and is made without stopping woozoom
or holding up its writes. FILE must not exist; it is written owner-only and
appears only when the copy is complete and checked.

A database on PostgreSQL is backed up with PostgreSQL's own tools, which copy
it consistently while woozoom serves: pg_dump -Fc -f woozoom.dump URL, or the
server's backups (pg_basebackup, a provider's snapshots). On PostgreSQL this
command says so and writes nothing.`,
		Example: "  woozoom backup /var/backups/woozoom/woozoom-$(date +%F).db",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withDB(cmd, cfg, database, func(ctx context.Context, db *store.DB) error {
				pages, err := db.Backup(ctx, args[0])
				if err != nil {
					return err
				}
				st, err := os.Stat(args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "backed up %d pages (%.1f MB) to %s\n", pages, float64(st.Size())/1e6, args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&database, "database", "", "database: a SQLite file or a postgres:// URL (default: database from the config)")
	return cmd
}
