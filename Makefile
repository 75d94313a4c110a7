# Cairn: change-data-capture into a verifiable journal.
# `make demo` and `make test` work on a fresh machine: they install what is missing first.

GO      ?= go
BIN     := bin
GOFLAGS := -buildvcs=false
export GOFLAGS

.PHONY: all build deps pg-deps mysql-deps pulsar-deps test lint demo bench fuzz clean tools proto proto-check

all: build

deps:
	@command -v $(GO) >/dev/null || { echo "Go 1.26+ is required (https://go.dev/dl/)"; exit 1; }
	@$(GO) mod download

# PostgreSQL server binaries for the fixtures (apt-get install when missing).
pg-deps:
	@bash fixtures/install-postgres.sh

# MariaDB server and client binaries for the fixtures (apt-get install when
# missing, without upgrading or removing installed packages), and a MySQL
# server from Debian sid unpacked into ~/.cache/cairn/mysql (no system install).
mysql-deps:
	@bash fixtures/install-mariadb.sh
	@bash fixtures/install-mysql.sh

# Pinned protobuf toolchain for `make proto`, installed into .tools/bin.
TOOLS             := $(CURDIR)/.tools/bin
BUF_VERSION       := v1.75.0
PROTOC_GEN_GO     := v1.36.12
PROTOC_GEN_GRPC   := v1.6.2
GRPC_GATEWAY      := v2.33.0
tools:
	@mkdir -p $(TOOLS)
	@test -x $(TOOLS)/buf && $(TOOLS)/buf --version | grep -qx '$(BUF_VERSION:v%=%)' || GOBIN=$(TOOLS) $(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	@test -x $(TOOLS)/protoc-gen-go && $(TOOLS)/protoc-gen-go --version | grep -q ' $(PROTOC_GEN_GO)$$' || GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
	@test -x $(TOOLS)/protoc-gen-go-grpc && $(TOOLS)/protoc-gen-go-grpc --version | grep -q ' $(PROTOC_GEN_GRPC:v%=%)$$' || GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GRPC)
	@test -x $(TOOLS)/protoc-gen-grpc-gateway && $(TOOLS)/protoc-gen-grpc-gateway --version 2>&1 | grep -q '$(GRPC_GATEWAY)' || GOBIN=$(TOOLS) $(GO) install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY) github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY)

# Regenerate the checked-in gRPC, gateway and OpenAPI code from api/proto.
proto: tools
	PATH=$(TOOLS):$$PATH $(TOOLS)/buf lint
	PATH=$(TOOLS):$$PATH $(TOOLS)/buf generate

# Fail when the checked-in generated code differs from what `make proto` makes.
proto-check: tools
	@bash api/proto/check.sh $(TOOLS)

# Pulsar standalone jars for the fixtures (Maven, cached in ~/.cache/cairn and ~/.m2).
pulsar-deps:
	@bash fixtures/install-pulsar.sh

build: deps
	$(GO) build -o $(BIN)/ ./cmd/...

lint: deps
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# All unit and integration tests (real processes, crash loops included), then the
# concurrent packages again under the race detector.
test: lint pg-deps mysql-deps pulsar-deps
	$(GO) test -count=1 -timeout 25m ./...
	$(GO) test -race -count=1 -timeout 15m ./journal/... ./capture/... ./replay/... ./api/...

# A short fuzzing pass over the decoders (longer: FUZZTIME=10m make fuzz).
FUZZTIME ?= 30s
fuzz: deps
	$(GO) test ./journal -run '^$$' -fuzz FuzzDecodeEntryBytes -fuzztime $(FUZZTIME)
	$(GO) test ./schema -run '^$$' -fuzz FuzzAppendJSONString -fuzztime $(FUZZTIME)

demo: build pg-deps
	$(GO) build -o $(BIN)/ ./fixtures/pgserver
	bash fixtures/demo.sh $(BIN)

# Long benchmarks, each with a same-run reference; results go in docs/benchmarks.md.
bench: deps pg-deps mysql-deps
	$(GO) run ./loadtest journal
	$(GO) run ./loadtest pg-catchup
	$(GO) run ./loadtest mysql-catchup
	$(GO) run ./loadtest mysql-catchup -server mysql
	$(GO) run ./loadtest subscribe

clean:
	rm -rf $(BIN)
