# hactl — build, test, demo. `make help` lists the targets.
GO        ?= go
BIN       := bin
TESTFLAGS ?=
# hactl's version: the nearest tag and commit, "-dirty" with local changes.
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: help build test unit e2e fuzz demo demo-destroy bench bench-full lint clean stress compose-v2

help:
	@echo "make build   build bin/hactl and bin/dbgpt-sim (static)"
	@echo "make test    every test: unit, sim against a real MariaDB, e2e on real SSH hosts and Docker"
	@echo "make unit    unit tests only (no Docker)"
	@echo "make fuzz    fuzz the cluster-file decoder for 30 s"
	@echo "make demo    one-machine quickstart: apply examples/quickstart, print status"
	@echo "make demo-destroy  remove what make demo deployed"
	@echo "make bench   print timing figures (one machine, a minute)"
	@echo "make bench-full  the performance benchmark on the test hosts: 3, 30 and 100 SSH hosts, readiness by hand,"
	@echo "                 Ansible side by side (installs Debian's ansible), compose; about 25 minutes"
	@echo "make lint    gofmt and go vet"
	@echo "make images  build (or find cached) the e2e test cluster's Docker images"
	@echo "make stress  make unit and make test 3 times each with stress-ng --cpu 4 beside them"
	@echo "make compose-v2  install Compose v2 (the docker compose plugin) when missing, built with Go"

build:
	$(GO) build -ldflags "-X github.com/hactl/hactl/internal/version.Version=$(VERSION)" -o $(BIN)/hactl ./cmd/hactl
	CGO_ENABLED=0 $(GO) build -o $(BIN)/dbgpt-sim ./cmd/dbgpt-sim

# make demo's quickstart holds ports the tests publish on (its webserver's
# 5670): the README runs make demo, then make test, so it goes first.
test: build
	@if [ -d $(QUICKSTART_ROOT) ]; then echo "make test: removing make demo's quickstart cluster first (its webserver holds port 5670, which the tests use)"; $(MAKE) --no-print-directory demo-destroy; fi
	$(GO) test -count=1 -timeout 45m $(TESTFLAGS) ./...

unit:
	HACTL_E2E=skip $(GO) test -count=1 -timeout 30m $(TESTFLAGS) ./...

fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 30s ./schema

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

stress:
	test/stress.sh

clean:
	rm -rf $(BIN)

# Compose v2 beside docker-compose v1, so the compose tests run under both:
# built from its Go module (a few minutes, once) when `docker compose` fails.
compose-v2:
	test/compose-v2.sh

.PHONY: images
images:  ## build (or find cached) the e2e test cluster's Docker images
	$(GO) run ./test/images/cmd/hactl-e2e-images

# The README's first command: everything on this machine, dbgpt-sim as dbgpt,
# a SQLite registry. Model directories are created where the example expects
# them (the sim needs only the directory). `make demo-destroy` cleans up.
QUICKSTART      := examples/quickstart/cluster.hcl
QUICKSTART_ROOT := /tmp/hactl-quickstart

demo: build
	@mkdir -p $(QUICKSTART_ROOT)/models/glm-4-9b-chat $(QUICKSTART_ROOT)/models/text2vec-large-chinese
	$(BIN)/hactl apply -auto-approve -f $(QUICKSTART) -var dbgpt_command=$(CURDIR)/$(BIN)/dbgpt-sim
	$(BIN)/hactl status -f $(QUICKSTART) -var dbgpt_command=$(CURDIR)/$(BIN)/dbgpt-sim

demo-destroy: build
	$(BIN)/hactl destroy -auto-approve -f $(QUICKSTART) -var dbgpt_command=$(CURDIR)/$(BIN)/dbgpt-sim

bench: build
	$(GO) test -run '^$$' -bench . -benchtime 20x ./plan
	$(GO) run ./cmd/hactl-bench -hactl $(BIN)/hactl -sim $(BIN)/dbgpt-sim -f $(QUICKSTART) -root $(QUICKSTART_ROOT)

# The performance benchmark of docs/performance.md: the e2e test hosts (100
# sshd containers and MariaDB, images built when missing), hactl against the
# processes' own readiness and against the Ansible playbook in bench/ansible
# (Debian's ansible, installed when missing), compose against its
# containers' readiness. HACTL_BENCH_RUNS (default 3), HACTL_BENCH_HOSTS
# (default 100), HACTL_BENCH_ANSIBLE=skip.
bench-full: build
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 120m -v ./bench
