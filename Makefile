# lote — pay people from a spreadsheet, exactly once.
# `make` with no target lists the targets.

GO      ?= go
BIN     := bin
PKGS    := ./...
FUZZTIME ?= 20s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/lote and bin/stonesim
	$(GO) build -o $(BIN)/lote ./cmd/lote
	$(GO) build -o $(BIN)/stonesim ./cmd/stonesim

.PHONY: test
test: lint chromium ## gofmt check, go vet, and every test with the race detector
	$(GO) test -race -count=1 -timeout 12m $(PKGS)

.PHONY: chromium
chromium: ## install Debian's chromium for the web page's browser test, when it is missing
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update && apt-get install -y chromium; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update && sudo apt-get install -y chromium; \
	  else echo "the browser test needs Chromium: as root, run apt-get install -y chromium (it is skipped without it, except with CI=true)"; fi; }

.PHONY: lint
lint: ## gofmt, go vet, and go.mod/go.sum as go mod tidy leaves them
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)

.PHONY: fuzz
fuzz: ## run every fuzz target briefly (FUZZTIME=20s each)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

.PHONY: bench
bench: build ## benchmarks and the figures of bench/ (generates its data under bench/data)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	./bench/run.sh

.PHONY: demo
demo: build ## the emulator plus a sample batch: validate and pay samples/payouts.csv
	./scripts/demo.sh

.PHONY: clean
clean: ## remove build output and demo results
	rm -rf $(BIN) out bench/data
