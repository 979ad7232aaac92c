# kstates Makefile. `make demo` runs the order workflow on a real local cluster; `make run`
# runs it offline; `make test` runs every test (unit, conformance, envtest).
SHELL := /usr/bin/env bash
GO ?= go
BIN := $(CURDIR)/bin
SHARED ?= $(abspath $(CURDIR)/../shared)
export KSTATES_CONFORMANCE_DIR ?= $(SHARED)/conformance
export KSTATES_JSONATA_SUITE_DIR ?= $(SHARED)/jsonata-test-suite

.PHONY: all build demo run test test-e2e vet fmt-check bench bench-vs-local-sfn fuzz conformance
.PHONY: bench-controller test-limits
.PHONY: generate manifests verify-generated envtest controller-gen

all: build

build: ## Build the kstates CLI.
	$(GO) build -o $(BIN)/kstates ./cmd/kstates

demo: build ## The order workflow on a cluster: $$KUBECONFIG's, else the local one (brought up if needed); three orders to their end (docs/demo.md).
	hack/demo.sh

run: build ## Run the sample workflow offline with mocked tasks.
	$(BIN)/kstates validate examples/order/statemachine.yaml
	$(BIN)/kstates run examples/order/statemachine.yaml --input-file examples/order/input.json \
		--mocks examples/order/mocks.json --clock virtual --history

test: fmt-check vet ## Unit, conformance and envtest tests (the first run on a machine builds kube-apiserver/etcd, ~8-10 min).
	KUBEBUILDER_ASSETS="$${KUBEBUILDER_ASSETS:-$$(hack/envtest.sh)}" $(GO) test -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

test-e2e: ## End-to-end tests on a real local cluster (brought up, and down afterwards, by hack/e2e.sh).
	hack/e2e.sh --down

conformance: ## Conformance pass counts per feature area.
	$(GO) test -count=1 -run TestConformance -v ./internal/engine/conformance/ | grep -E '^(area|conformance|validation|---|ok|FAIL)'

bench: ## Engine benchmarks on one core.
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./internal/engine/...

FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./internal/engine/asl:FuzzParseDefinition ./internal/engine/asl:FuzzJSONReader \
	./internal/engine/value:FuzzParse ./internal/engine/jsonpath:FuzzCompile \
	./internal/engine/intrinsics:FuzzParse ./internal/engine/template:FuzzTemplate \
	./internal/engine:FuzzRun ./internal/engine/jsonata:FuzzCompile ./internal/engine/jsonata:FuzzEvaluate \
	./internal/cli:FuzzParseMocks ./internal/cli:FuzzParseContext
fuzz: ## Each fuzz target in turn for FUZZTIME.
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "== $$fn ($$pkg)"; $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; done

bench-vs-local-sfn: build ## Whole-process speed against aws-local-stepfunctions (npm).
	hack/bench-vs-local-sfn.sh

.PHONY: bench-task-overhead
bench-task-overhead: ## The controller's overhead per Task state over 100 task pods on the local cluster (docs/benchmarks.md).
	hack/bench-task-overhead.sh

bench-controller: ## Execution controller throughput on envtest against the ceiling (docs/benchmarks.md); ARGS="-executions 200".
	hack/bench-controller.sh $(ARGS)

test-limits: ## The size limits through the controller on envtest (25,000 events, a large Map; minutes).
	KUBEBUILDER_ASSETS="$${KUBEBUILDER_ASSETS:-$$(hack/envtest.sh)}" KSTATES_LIMITS=1 $(GO) test -count=1 -timeout 30m -v ./test/limits/

## ---- Operator: code generation and envtest binaries (api/, config/, hack/) ----
CONTROLLER_GEN := $(BIN)/controller-gen
CONTROLLER_TOOLS_VERSION := v0.23.0

controller-gen: $(CONTROLLER_GEN) ## Build controller-gen (pinned in hack/tools/go.mod) into bin/.
$(CONTROLLER_GEN): hack/tools/go.mod hack/tools/go.sum
	cd hack/tools && $(GO) build -o $(CONTROLLER_GEN) sigs.k8s.io/controller-tools/cmd/controller-gen

generate: $(CONTROLLER_GEN) ## Generate deepcopy methods (api/v1alpha1/zz_generated.deepcopy.go).
	$(CONTROLLER_GEN) object paths=./api/...

manifests: $(CONTROLLER_GEN) ## Generate CRDs (config/crd/bases) and the manager Role (config/rbac/role.yaml).
	$(CONTROLLER_GEN) crd:allowDangerousTypes=false paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=manager-role paths=./controllers/... paths=./cmd/manager/... output:rbac:artifacts:config=config/rbac

verify-generated: ## Fail when the committed generated files differ from what `make generate manifests` produces.
	hack/verify-generated.sh

envtest: ## Build (once, cached) kube-apiserver, etcd and kubectl for envtest; prints KUBEBUILDER_ASSETS.
	@hack/envtest.sh --export

## ---- Local cluster (hack/cluster-up.sh, docs/local-cluster.md) ----
.PHONY: cluster-up cluster-down images

cluster-up: ## A real single-node cluster (first run builds the kube binaries, ~4-8 min); kubeconfig in /tmp/kstates-cluster/kubeconfig.
	hack/cluster-up.sh

cluster-down: ## Stop the local cluster (PURGE=1 also removes its state).
	hack/cluster-down.sh $(if $(PURGE),--purge)

images: ## Build the task and manager images and import them into the local cluster's containerd.
	hack/images/build.sh all
