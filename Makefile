# Cairn: change-data-capture into a verifiable journal.
# `make demo` and `make test` work on a fresh machine: they install what is missing first.

GO      ?= go
BIN     := bin
GOFLAGS := -buildvcs=false
export GOFLAGS

.PHONY: all build deps pg-deps mysql-deps test lint demo bench fuzz clean

all: build

deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required (https://go.dev/dl/)"; exit 1; }
	@$(GO) mod download

# PostgreSQL server binaries for the fixtures (apt-get install when missing).
pg-deps:
	@bash fixtures/install-postgres.sh

# MariaDB server and client binaries for the fixtures (apt-get install when
# missing, without upgrading or removing installed packages).
mysql-deps:
	@bash fixtures/install-mariadb.sh

build: deps
	$(GO) build -o $(BIN)/ ./cmd/...

lint: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# All unit and integration tests (real processes, crash loops included), then the
# concurrent packages again under the race detector.
test: lint pg-deps mysql-deps
	$(GO) test -count=1 -timeout 25m ./...
	$(GO) test -race -count=1 -timeout 15m ./journal/... ./capture/...

# A short fuzzing pass over the decoders (longer: FUZZTIME=10m make fuzz).
FUZZTIME ?= 30s
fuzz: deps
	$(GO) test ./journal -run '^$$' -fuzz FuzzDecodeEntryBytes -fuzztime $(FUZZTIME)

demo: build pg-deps
	$(GO) build -o $(BIN)/ ./fixtures/pgserver
	bash fixtures/demo.sh $(BIN)

# Long benchmarks, each with a same-run reference; results go in docs/benchmarks.md.
bench: deps pg-deps
	$(GO) run ./loadtest journal
	$(GO) run ./loadtest pg-catchup

clean:
	rm -rf $(BIN)
