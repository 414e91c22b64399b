# warren's tasks. `make help` lists them.
GO      ?= go
BIN     := bin/warren
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
FUZZTIME ?= 15s

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/warren
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/warren

.PHONY: deps
deps: ## install what the tests need (rabbitmq-server, Go modules)
	./scripts/ensure-rabbitmq.sh
	$(GO) mod download

.PHONY: lint
lint: ## go vet, and gofmt must have nothing to change
	$(GO) vet ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: test
test: deps lint ## everything CI runs: lint, all tests (real RabbitMQ nodes included), a short fuzz run
	CI=$${CI:-} $(GO) test -count=1 ./...
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./definitions
	$(GO) test -run '^$$' -fuzz '^FuzzFastPathAgrees$$' -fuzztime 5s ./schema

.PHONY: fuzz
fuzz: ## fuzz the loader for longer (FUZZTIME=5m make fuzz)
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./definitions

.PHONY: golden
golden: ## rewrite golden files and docs/diagnostics.md from the code
	WARREN_UPDATE=1 $(GO) test -count=1 ./...

.PHONY: bench
bench: build ## benchmarks: validate vs python's json.load; diff; a real node with 30,000 objects
	./scripts/bench.sh

.PHONY: node
node: deps ## start a disposable RabbitMQ node to try warren on (Ctrl-C stops it)
	$(GO) build -o bin/devnode ./scripts/devnode
	bin/devnode -env .tmp/node.env

.PHONY: demo
demo: build ## warren's main job on a real local node: boot (no guest), diff, drift, apply, export
	./scripts/demo.sh

.PHONY: clean
clean: ## remove build output
	rm -rf bin .tmp
