# Switchboard: the two commands a newcomer needs are `make run` and `make test`; both install what
# they need (npm tools) or say exactly what is missing.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
NPM     ?= npm
# Every folder under functions/ with a main.go is a Lambda function with its own bootstrap.
FUNCTIONS := $(patsubst functions/%/main.go,%,$(wildcard functions/*/main.go))
# An example instance (the one connectsim serves); `make deploy` insists on a real one.
EXAMPLE_INSTANCE_ARN := arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-4333-8444-555555555555
INSTANCE_ARN ?= $(EXAMPLE_INSTANCE_ARN)
# The https origin of the page hosting the chat widget; without it the stack leaves out the chat
# authentication redirect. `make synth` uses an example so the template shows every capability.
EXAMPLE_CHAT_ORIGIN := https://chat.example.com
CHAT_ORIGIN ?=
CONNECTSIM_ADDR ?= 127.0.0.1:8910

# jsii (behind the CDK) prints a Node 20 end-of-life banner on every run, and leaves jsii-runtime.* and
# cdk.out* folders in TMPDIR: keep those in a scratch folder of the repo that `make clean` removes.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
SCRATCH    := $(CURDIR)/.scratch
NODE_STAMP := node_modules/.switchboard-installed
CDK        := node_modules/.bin/cdk

.PHONY: browser deps help build test fuzz-smoke soak run invoke rehearse synth deploy bench lint clean check-go FORCE

help:
	@echo "make run     the whole system on loopback (Connect, DynamoDB, S3, Lambda, EventBridge) with a demo campaign [ARGS=-no-demo]"
	@echo "make invoke  invoke one function with an event file: make invoke FN=contactflow EVENT=events/contactflow/optout.json"
	@echo "make rehearse  rehearse a campaign against connectsim: make rehearse CAMPAIGN=file.json [RECIPIENTS=file.csv]"
	@echo "make test    lint and run every test (installs the npm tools first)"
	@echo "make soak    the reliability suite's long run: faults, kills, lost events [SOAK_DURATION=10m] [SOAK_SEED=n replays a run]"
	@echo "make build   build one linux/arm64 bootstrap per function under build/<fn>/"
	@echo "make synth   synthesize the CloudFormation template (example settings) into cdk.out/"
	@echo "make deploy  deploy with INSTANCE_ARN=arn:aws:connect:<region>:<account>:instance/<id> [CHAT_ORIGIN=https://chat.example.com]"
	@echo "make bench   compare each function's bootstrap with a Node.js 20 baseline, then every go test -bench"
	@echo "make lint    gofmt check and go vet"
	@echo "make deps    download Go modules, install the pinned npm tools and chromium (browser tests)"
	@echo "make clean   remove build outputs and scratch folders"

check-go:
	@command -v $(GO) >/dev/null || { echo "Go is missing: install Go 1.26 (https://go.dev/doc/install) and put it on PATH"; exit 1; }

$(NODE_STAMP): package.json package-lock.json
	@command -v $(NPM) >/dev/null || { echo "npm is missing: install Node.js 20+ with npm (https://nodejs.org or your distribution's nodejs 20+ package)"; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { echo "Node.js $$(node --version) is too old: dynalite (the local DynamoDB of the tests) needs Node.js 20+"; exit 1; }
	$(NPM) ci --no-audit --no-fund
	@touch $@

deps: check-go $(NODE_STAMP) browser
	$(GO) mod download

# Build tags of every bootstrap (functions/internal/linkcheck reads this line, so the size tests
# link what is shipped). lambda.norpc: aws-lambda-go without the net/rpc mode the provided.al2023
# runtime never uses. nethttpomithttp2: net/http without HTTP/2 (0.3 MB): the functions' calls are
# sequential or paced, which HTTP/1.1 keep-alive serves as well, and DynamoDB's endpoints speak
# only HTTP/1.1 (docs/performance.md).
LAMBDA_TAGS := lambda.norpc,nethttpomithttp2

build: check-go $(FUNCTIONS:%=build/%/bootstrap)

build/%/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags $(LAMBDA_TAGS) -trimpath -ldflags "-s -w" -o $@ ./functions/$*

FORCE:

lint: check-go
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# Browser tests drive Debian's chromium; install it where we can (root with apt-get), else say how.
browser:
	@if [ -x /usr/bin/chromium ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 chromium; \
	else echo "chromium is missing: install it (Debian/Ubuntu: sudo apt-get install -y chromium) for the browser tests"; exit 1; fi

test: lint $(NODE_STAMP) browser
	@mkdir -p $(SCRATCH)
	TMPDIR=$(SCRATCH) $(GO) test -timeout 15m ./...
	@$(MAKE) --no-print-directory fuzz-smoke

# Each fuzz target runs briefly (its seed corpus always runs in `go test`): package:target:executions.
# The budget is a count of executions (-fuzztime Nx), about 3 s of each target on this 2-core
# machine: a duration budget races the fuzz coordinator's own deadline under CPU load in Go 1.26
# ("context deadline exceeded" with no failing input written, golang/go#75804), while a count has
# no deadline, so only a real finding (a failing input under testdata/fuzz) fails `make test`.
# FUZZ_SCALE multiplies every count (FUZZ_SCALE=10 for a longer look).
FUZZ_TARGETS := shared/contactflow:FuzzDecodeEvent:40000 shared/contactflow:FuzzHandle:10000 \
	shared/connectspec:FuzzIDChecksMatchThePatterns:100000 events/dialer:FuzzDecode:4000 \
	shared/authredirect:FuzzCallbackQuery:15000 shared/authredirect:FuzzCompletionBody:5000 \
	shared/authredirect:FuzzStartBody:10000 shared/outbound:FuzzPlan:20000 \
	shared/authredirect:FuzzPageIsWhatHTMLTemplateRenders:5000 events/dialer:FuzzIDChecksMatchThePatterns:60000 \
	shared/safetext:FuzzCutsStayValid:100000
FUZZ_SCALE ?= 1
fuzz-smoke: check-go
	@mkdir -p $(SCRATCH)
	@for t in $(FUZZ_TARGETS); do \
	  IFS=: read -r pkg target n <<< "$$t"; n=$$((n * $(FUZZ_SCALE))); \
	  echo "fuzz $$target in ./$$pkg for $$n executions"; \
	  TMPDIR=$(SCRATCH) $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime "$${n}x" ./$$pkg || exit 1; \
	done

# The reliability suite's long run (docs/reliability.md): campaigns back to back for SOAK_DURATION
# with 20% faults on Connect and DynamoDB, the dialer killed at random and contact events lost;
# the run prints its seed, and SOAK_SEED=<n> replays it. The run bounds itself (SOAK_DURATION
# plus the last campaign's timeout), hence no go test timeout.
SOAK_DURATION ?= 10m
soak: check-go $(NODE_STAMP)
	@mkdir -p $(SCRATCH)
	SOAK_DURATION=$(SOAK_DURATION) SOAK_SEED=$(SOAK_SEED) TMPDIR=$(SCRATCH) $(GO) test -run '^TestSoak$$' -v -count=1 -timeout 0 ./local/soak/

# The whole system on loopback with a demo campaign (docs/devstack.md); ARGS passes flags, for
# example ARGS="-no-demo" or ARGS="-time-scale 300 -seed 7".
run: check-go $(NODE_STAMP)
	$(GO) run ./local/cmd/devstack $(ARGS)

# One function, one event file, the response on stdout: against the devstack running on the
# default ports, or a devstack started for this invocation.
invoke: check-go $(NODE_STAMP)
	@if [ -z "$(FN)" ] || [ -z "$(EVENT)" ]; then echo "usage: make invoke FN=<contactflow|dialer|authredirect> EVENT=<file>, e.g. make invoke FN=contactflow EVENT=events/contactflow/optout.json"; exit 2; fi
	@$(GO) run ./local/cmd/devstack invoke -fn $(FN) -event $(EVENT)

# A campaign definition against connectsim at simulation speed, with the dialer's real pacing,
# windows and retries; a report of when it would finish, calls by callee-local hour, outcomes and
# who would not be reached. Nothing leaves the machine.
rehearse: check-go $(NODE_STAMP)
	@if [ -z "$(CAMPAIGN)" ]; then echo "usage: make rehearse CAMPAIGN=<file.json> [RECIPIENTS=<file.csv>], e.g. make rehearse CAMPAIGN=events/dialer/campaign-launched.json"; exit 2; fi
	@$(GO) run ./local/cmd/devstack rehearse -campaign $(CAMPAIGN) $(if $(RECIPIENTS),-recipients $(RECIPIENTS))

synth: build $(NODE_STAMP)
	@mkdir -p $(SCRATCH)
	TMPDIR=$(SCRATCH) $(CDK) synth --quiet -c instanceArn=$(INSTANCE_ARN) -c chatOrigin=$(or $(CHAT_ORIGIN),$(EXAMPLE_CHAT_ORIGIN)) -c assetsDir=build
	@echo "template: cdk.out/Switchboard.template.json"

deploy: build $(NODE_STAMP)
	@if [ "$(INSTANCE_ARN)" = "$(EXAMPLE_INSTANCE_ARN)" ]; then \
	  echo "make deploy needs your instance: make deploy INSTANCE_ARN=arn:aws:connect:<region>:<account>:instance/<instance-id>"; exit 1; fi
	@mkdir -p $(SCRATCH)
	TMPDIR=$(SCRATCH) $(CDK) deploy -c instanceArn=$(INSTANCE_ARN) -c chatOrigin=$(CHAT_ORIGIN) -c assetsDir=build

# Each function's bootstrap as `make build` makes it, but for this machine (linux/amd64) so that it
# can run here, against its Node.js 20 baseline installed from its lock file (bench/cmd/flowbench).
BENCH_OUT  := $(SCRATCH)/bench
BENCH_NODE := bench/baselines/node bench/baselines/node-dialer
bench: check-go $(NODE_STAMP)
	@command -v node >/dev/null || { echo "node is missing: install Node.js 20+ for the Node.js baselines"; exit 1; }
	@mkdir -p $(BENCH_OUT)
	for d in $(BENCH_NODE); do (cd $$d && $(NPM) ci --no-audit --no-fund); done
	for fn in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -tags $(LAMBDA_TAGS) -trimpath -ldflags "-s -w" -o $(BENCH_OUT)/$$fn/bootstrap ./functions/$$fn && \
	  $(GO) run ./bench/cmd/flowbench -fn $$fn -go $$fn=$(BENCH_OUT)/$$fn/bootstrap -out $(BENCH_OUT)/flowbench-$$fn.md || exit 1; \
	done
	@# The floor under every warm figure: a handler that does nothing, in Go and in Node.js.
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -tags $(LAMBDA_TAGS) -trimpath -ldflags "-s -w" -o $(BENCH_OUT)/noop/bootstrap ./bench/cmd/noopfn
	$(GO) run ./bench/cmd/flowbench -fn noop -go noop=$(BENCH_OUT)/noop/bootstrap -out $(BENCH_OUT)/flowbench-noop.md
	TMPDIR=$(SCRATCH) $(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf build cdk.out $(SCRATCH)
