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
	root.PersistentFlags().StringVarP(&configFile, "config", "c", "config.yaml", "configuration file")
	cfg := func(required bool) (Config, error) { return loadConfig(configFile, required) }

	var demo bool
	serveCmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the sidecar: receive webhooks and work the queue",
		Long: `Run the sidecar: the webhook endpoint POST /webhooks/woocommerce, GET /healthz,
and the worker that registers and cancels attendees on Zoom.

With --demo it runs in demo mode: a fake Zoom and a fake shop run in-process,
"woozoom demo order" places a sample order that the fake shop delivers as a
signed webhook, and the console is on at /admin/ with a password printed at
start. The demo works on its own woozoom-demo.db, which it creates and removes
when it stops; it never touches the configured database. Without --demo, the
demo runs only when nothing configures woozoom (no config file, no WOOZOOM_
variable). A configuration that lacks credentials refuses to start and lists
what is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			given := cmd.Flags().Changed("config")
			c, err := cfg(given)
			if err != nil {
				return err
			}
			if !demo && implicitDemo(configFile, given, os.Environ()) {
				fmt.Fprintf(stderr, "no %s and no WOOZOOM_ settings: starting the demo (see the README to go live)\n", configFile)
				demo = true
			}
			return serve(cmd.Context(), c, demo, stdout, stderr)
		},
	}
	serveCmd.Flags().BoolVar(&demo, "demo", false, "run against in-process fakes of Zoom and WooCommerce")

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

	root.AddCommand(serveCmd, checkCmd, mapCommand(cfg, stdout), jobsCommand(cfg, stdout),
		registrationsCommand(cfg, stdout), reconcileCommand(cfg, stdout), backfillCommand(cfg, stdout),
		exportCommand(cfg, stdout), webhooksCommand(cfg, stdout), backupCommand(cfg, stdout), planCommand(cfg, stdout),
		auditCommand(cfg, stdout), zoomCommand(cfg, stdout), demoCommand(stdout))
	return root
}
