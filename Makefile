# woozoom. go-sqlite3 needs cgo: keep CGO_ENABLED=1 (the default with gcc).
GO      ?= go
BIN     ?= bin/woozoom
CONFIG  ?= config.yaml

.PHONY: run test build bench vet clean

## run: start the sidecar; without config.yaml it runs in demo mode with in-process fakes
run: build
	@if [ -f $(CONFIG) ]; then ./$(BIN) serve --config $(CONFIG); else ./$(BIN) serve --demo; fi

## test: every test, with the race detector
test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

build:
	$(GO) build -o $(BIN) ./cmd/woozoom

## bench: benchmarks (figures, not assertions)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
