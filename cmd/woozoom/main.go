// Command woozoom is the sidecar that registers WooCommerce ticket buyers on
// Zoom meetings and webinars, and cancels them when the order is cancelled.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "woozoom:", err)
		return 1
	}
	return 0
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	var configFile string
	root := &cobra.Command{
		Use:   "woozoom",
		Short: "Register WooCommerce ticket buyers on Zoom meetings and webinars",
		Long: `woozoom receives WooCommerce order webhooks, registers the attendees of completed
orders on the Zoom meetings and webinars their products map to, cancels them when
the order is cancelled or refunded, and writes the join links back to the order.

Configuration comes from config.yaml (see config.yaml.example); every key can be
overridden by the environment: zoom.client_secret by WOOZOOM_ZOOM_CLIENT_SECRET.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	var shop string
	root.PersistentFlags().StringVarP(&configFile, "config", "c", "config.yaml", "configuration file")
	root.PersistentFlags().StringVar(&shop, "shop", "", "the shop of shops: to work on (default: the first); serve works every shop")
	cfg := func(required bool) (Config, error) {
		c, err := loadConfig(configFile, required)
		if err != nil {
			return c, err
		}
		return c.selectShop(shop)
	}

	root.AddCommand(serveCommand(&configFile, cfg, stdout, stderr), checkCommand(cfg, stdout), mapCommand(cfg, stdout), jobsCommand(cfg, stdout),
		registrationsCommand(cfg, stdout), reconcileCommand(cfg, stdout), backfillCommand(cfg, stdout),
		exportCommand(cfg, stdout), webhooksCommand(cfg, stdout), backupCommand(cfg, stdout), planCommand(cfg, stdout),
		auditCommand(cfg, stdout), zoomCommand(cfg, stdout), attendanceCommand(cfg, stdout), demoCommand(stdout))
	return root
}
