# woozoom. go-sqlite3 needs cgo: keep CGO_ENABLED=1 (the default with gcc).
GO      ?= go
BIN     ?= bin/woozoom
CONFIG  ?= config.yaml

.PHONY: run test build bench fuzz chaos cluster-chaos clean lint tools

# golangci-lint, pinned; built from the Go module proxy into bin/tools once.
GOLANGCI_VERSION ?= v2.15.0
GOLANGCI         := bin/tools/golangci-lint-$(GOLANGCI_VERSION)

## run: start the sidecar; without config.yaml it runs in demo mode with in-process fakes
run: build
	@if [ -f $(CONFIG) ]; then ./$(BIN) serve --config $(CONFIG); else ./$(BIN) serve --demo; fi

# make test fuzzes for a count of inputs, not a time: with a time, Go 1.26's
# fuzz coordinator can fail a clean run with "context deadline exceeded"
# (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME ?= 30000x

## test: lint, every test with the race detector, and each fuzz target briefly
test: lint tools
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=$(FUZZTIME)

## fuzz: run each fuzz target for FUZZTIME (make fuzz FUZZTIME=5000000x for a long run)
fuzz:
	$(GO) test -timeout 30m -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME) ./woo
	$(GO) test -timeout 30m -run '^$$' -fuzz '^FuzzParseDelivery$$' -fuzztime $(FUZZTIME) ./woo
	$(GO) test -timeout 30m -run '^$$' -fuzz '^FuzzOAuth1$$' -fuzztime $(FUZZTIME) ./woo

build:
	$(GO) build -o $(BIN) ./cmd/woozoom

## tools: what the tests need beyond Go: a Chrome or Chromium (the console's
## browser test), systemd-analyze (the unit's check) and PostgreSQL's server
## programs (the store on PostgreSQL, in a throwaway cluster); an existing one
## is used, a missing one installed with apt as root, else named (scripts/tools.sh)
tools:
	@sh scripts/tools.sh

## lint: golangci-lint (.golangci.yml), which runs go vet among others
lint: $(GOLANGCI)
	$(GOLANGCI) run ./...

$(GOLANGCI):
	mkdir -p bin/tools
	GOBIN=$(CURDIR)/bin/tools $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)
	mv bin/tools/golangci-lint $@

## chaos: the crash and fault harness at full size (make test runs a short one)
CHAOS_ORDERS ?= 2000
CHAOS_KILLS  ?= 10
chaos:
	WOOZOOM_CHAOS_ORDERS=$(CHAOS_ORDERS) WOOZOOM_CHAOS_KILLS=$(CHAOS_KILLS) $(GO) test -count=1 -timeout 60m -run '^TestChaos$$' -v ./cmd/woozoom

## cluster-chaos: the harness on a cluster at full size: three replicas on a
## throwaway PostgreSQL behind a round-robin proxy, replicas killed and
## PostgreSQL restarted during the stream (make test runs a short one)
CLUSTER_ORDERS ?= 1500
cluster-chaos: tools
	WOOZOOM_CHAOS_ORDERS=$(CLUSTER_ORDERS) WOOZOOM_CHAOS_KILLS=$(CHAOS_KILLS) $(GO) test -count=1 -timeout 60m -run '^TestClusterChaos$$' -v ./cmd/woozoom

## bench: benchmarks (figures, not assertions)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
