# warren's tasks. `make help` lists them.
GO      ?= go
BIN     := bin/warren
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
FUZZTIME ?= 15s
# staticcheck at a pinned version, fetched through the module proxy on first
# use: a fresh machine needs no separate install.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The RabbitMQ that make node and make demo run: 4.3 (Debian testing's, in a
# chroot), 4.0 (Debian trixie's, in a chroot) or 3.10 (the host's package).
# make test runs the real-node tests on all three.
RABBITMQ ?= 4.3
# The packages whose tests start RabbitMQ nodes.
NODE_PKGS = $(shell $(GO) list -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | awk '/rabbitmqtest/ {print $$1}')

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/warren (without cgo, as the release is: make bench measures what users run)
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/warren

.PHONY: release
release: ## static binaries for Linux and macOS (amd64, arm64) in dist/, with SHA256SUMS, checked
	VERSION=$(VERSION) COMMIT=$(COMMIT) GO=$(GO) ./scripts/release.sh

.PHONY: deps
deps: ## install what the tests need (RabbitMQ 3.10, 4.0 and 4.3, Go modules)
	./scripts/ensure-rabbitmq.sh
	./scripts/ensure-rabbitmq-chroot.sh 4.0 >/dev/null
	./scripts/ensure-rabbitmq-chroot.sh 4.3 >/dev/null
	$(GO) mod download

.PHONY: lint
lint: ## go vet, gofmt must have nothing to change, staticcheck, and warren must build for Windows too
	$(GO) vet ./...
	GOOS=windows $(GO) build -o /dev/null ./cmd/warren
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...

.PHONY: check
check: ## the fast inner loop, no RabbitMQ: go vet, gofmt, staticcheck, go test -short (real-node tests skip)
	$(GO) vet ./...
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...
	$(GO) test -short ./...

.PHONY: test
test: deps lint golden-check ## everything CI runs: lint, all tests (on real RabbitMQ 3.10, 4.0 and 4.3 nodes), short fuzz runs
	@echo "== every test, real nodes on RabbitMQ 4.3"
	CI=$${CI:-} WARREN_RABBITMQ=4.3 $(GO) test -count=1 -timeout 30m ./...
	@echo "== the real-node tests again, on RabbitMQ 4.0"
	CI=$${CI:-} WARREN_RABBITMQ=4.0 $(GO) test -count=1 -timeout 30m $(NODE_PKGS)
	@echo "== the real-node tests again, on RabbitMQ 3.10"
	CI=$${CI:-} WARREN_RABBITMQ=3.10 $(GO) test -count=1 -timeout 30m $(NODE_PKGS)
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./definitions
	$(GO) test -run '^$$' -fuzz '^FuzzFastPathAgrees$$' -fuzztime 5s ./schema

.PHONY: fuzz
fuzz: ## fuzz the loader for longer (FUZZTIME=5m make fuzz)
	$(GO) test -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME) ./definitions

.PHONY: golden
golden: ## rewrite golden files, docs/diagnostics.md, docs/commands.md and docs/kubernetes.md's blocks from the code
	WARREN_UPDATE=1 $(GO) test -count=1 ./...

.PHONY: golden-check
golden-check: ## fail if make golden would change anything (goldens and the generated docs)
	@before="$$(git diff | sha256sum)"; \
	WARREN_UPDATE=1 $(GO) test -count=1 -run 'Golden|TestCodes|TestScripts' ./definitions/... ./schema ./cmd/warren >/dev/null || exit 1; \
	if [ "$$(git diff | sha256sum)" != "$$before" ]; then \
	  echo "make golden changed files: the goldens are stale or the output is not deterministic"; git diff --stat; exit 1; fi; \
	echo "golden files are up to date"

.PHONY: bench
bench: build ## measure the speed table on RabbitMQ 3.10, 4.0 and 4.3 and write docs/performance.md (ROUNDS=1 REPEATS=1 for a quick run, PROFILE=DIR for pprof profiles)
	./scripts/bench.sh

.PHONY: bench-scale
bench-scale: build ## measure warren diff against ten times make bench's objects (412,000) on RabbitMQ 4.3; the loaded node is kept for the next run, and make bench's table shows the rows
	./scripts/ensure-rabbitmq-chroot.sh 4.3 >/dev/null
	mkdir -p .tmp/bench-scale
	$(GO) build -o bin/benchbroker ./scripts/benchbroker
	WARREN_RABBITMQ=4.3 bin/benchbroker -scale 10 -repeats $${REPEATS:-3} -out .tmp/bench-scale/scale.json

.PHONY: node
node: ## start a disposable RabbitMQ node to try warren on (4.3; RABBITMQ=4.0 or 3.10 for another; Ctrl-C stops it)
	@if [ "$(RABBITMQ)" = 3.10 ]; then ./scripts/ensure-rabbitmq.sh; else ./scripts/ensure-rabbitmq-chroot.sh $(RABBITMQ) >/dev/null; fi
	$(GO) build -o bin/devnode ./scripts/devnode
	mkdir -p .tmp
	WARREN_RABBITMQ=$(RABBITMQ) bin/devnode -env .tmp/node.env

.PHONY: demo
demo: build ## warren's main job on a real local node: boot (no guest), diff, drift, apply, export (4.3; RABBITMQ=4.0 or 3.10)
	WARREN_RABBITMQ=$(RABBITMQ) ./scripts/demo.sh

.PHONY: clean
clean: ## remove build output
	rm -rf bin .tmp dist
