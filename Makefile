# snilb — see README.md. `make` builds, `make check` runs every test suite.
# Every target that needs a Debian package depends on `deps`, which installs
# only what is missing (scripts/install-deps.sh).

BUILD    ?= build
CC       ?= cc
CLANG    ?= clang
BPFTOOL  ?= bpftool
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo dev)
ARCH_INC := /usr/include/$(shell uname -m)-linux-gnu

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude -Iuser -I$(BUILD) \
	    -DSNILB_VERSION='"$(VERSION)"'
LDLIBS   := -lbpf -lelf -lz -ljansson -lyaml -lpthread -lmicrohttpd -lcurl
# BPF: plain uapi headers (Debian keeps asm/ under the multiarch dir).
BPF_CFLAGS := -O2 -g $(WARN) -target bpf -Iinclude -I$(ARCH_INC)
# Tests and the fuzzer run under ASan/UBSan so an out-of-bounds read in the
# parser fails loudly instead of passing by luck.
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
TEST_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE $(WARN) $(SAN) -Iinclude -Iuser -I$(BUILD)

BPF_OBJS := $(BUILD)/hello_probe.bpf.o $(BUILD)/snilb.bpf.o
SKELS    := $(BPF_OBJS:.bpf.o=.skel.h)
USER_SRC := user/main.c user/cmd_sni.c user/hello.c user/kparse.c \
	    user/dataplane.c user/maglev.c user/kver.c user/gc.c \
	    user/pinned.c user/cmd_inspect.c user/metrics.c \
	    user/agent.c user/manifest.c user/manifests.c user/gwapi.c \
	    user/sync.c user/status.c user/log.c user/kube.c user/kstatus.c \
	    user/lease.c user/caps.c user/snatports.c
HDRS     := $(wildcard include/*.h user/*.h bpf/*.h)

FUZZ_SECONDS ?= 60
CORPUS   ?= $(abspath ../shared/corpus)
export CORPUS

.SECONDARY: $(BPF_OBJS)

.PHONY: all deps check test-unit test-corpus test-kernel test-dataplane \
	test-e2e test-tcp test-agent test-kube chaos chaos-quick vmtest \
	fuzz fuzz-check \
	bench bench-parser demo clean

all: $(BUILD)/snilb

deps:
	@./scripts/install-deps.sh

$(BUILD):
	@mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(HDRS) | deps $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o | deps
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp
	@mv $@.tmp $@

$(BUILD)/snilb: $(USER_SRC) $(HDRS) $(SKELS) | deps $(BUILD)
	$(CC) $(CFLAGS) $(USER_SRC) -o $@ $(LDLIBS)

# --- tests ---------------------------------------------------------------

$(BUILD)/test_clienthello: tests/unit/test_clienthello.c \
		tests/unit/hello_builder.h user/hello.c user/kver.c $(HDRS) \
		| deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_clienthello.c user/hello.c \
		user/kver.c -o $@ -lcmocka -ljansson

$(BUILD)/test_manifest: tests/unit/test_manifest.c user/manifest.c $(HDRS) \
		| deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_manifest.c user/manifest.c \
		-o $@ -lcmocka -lyaml

$(BUILD)/test_gwapi: tests/unit/test_gwapi.c user/gwapi.c user/manifest.c \
		user/maglev.c $(HDRS) | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_gwapi.c user/gwapi.c \
		user/manifest.c user/maglev.c -o $@ -lcmocka -lyaml

# The Kubernetes source without a server (it includes user/kube.c).
$(BUILD)/test_kube: tests/unit/test_kube.c user/kube.c user/manifest.c \
		user/log.c $(HDRS) | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_kube.c user/manifest.c \
		user/log.c -o $@ -lcmocka -ljansson -lyaml -lcurl -lpthread

$(BUILD)/test_manifests: tests/unit/test_manifests.c user/manifests.c \
		user/manifest.c $(HDRS) | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_manifests.c user/manifests.c \
		user/manifest.c -o $@ -lcmocka -lyaml

# bpf/csum.h's arithmetic against a model of the kernel's helpers.
$(BUILD)/test_csum: tests/unit/test_csum.c bpf/csum.h | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_csum.c -o $@ -lcmocka

$(BUILD)/test_kstatus: tests/unit/test_kstatus.c user/kstatus.c user/lease.c \
		user/gwapi.c user/manifest.c user/log.c $(HDRS) | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_kstatus.c user/kstatus.c \
		user/lease.c user/gwapi.c user/manifest.c user/log.c -o $@ \
		-lcmocka -lyaml -ljansson

$(BUILD)/test_kdiff: tests/bpf/kdiff.c user/hello.c user/kparse.c \
		tests/unit/hello_builder.h $(HDRS) $(SKELS) | deps $(BUILD)
	$(CC) $(CFLAGS) tests/bpf/kdiff.c user/hello.c user/kparse.c \
		user/kver.c -o $@ $(LDLIBS)

$(BUILD)/fuzz_clienthello: fuzz/fuzz_clienthello.c user/hello.c \
		tests/unit/hello_builder.h $(HDRS) | deps $(BUILD)
	$(CLANG) -O1 -g $(WARN) -fsanitize=fuzzer,address,undefined \
		-Iinclude -Iuser fuzz/fuzz_clienthello.c user/hello.c \
		-o $@ -ljansson

$(BUILD)/test_snatports: tests/unit/test_snatports.c user/snatports.c \
		user/log.c $(HDRS) | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_snatports.c user/snatports.c \
		user/log.c -o $@ -lcmocka -ljansson

# The inspection commands and metrics, as far as they run without BPF.
$(BUILD)/test_inspect: tests/unit/test_inspect.c user/cmd_inspect.c \
		user/pinned.c user/metrics.c $(HDRS) | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) tests/unit/test_inspect.c user/pinned.c \
		user/metrics.c -o $@ -lcmocka -ljansson -lmicrohttpd -lbpf \
		-lelf -lz

# Real hellos from the clients installed here (openssl, gnutls, curl,
# python), captured by a local listener: test data we make ourselves.
$(BUILD)/hellos/.done: tests/capture-hellos.sh | deps $(BUILD)
	./tests/capture-hellos.sh $(BUILD)/hellos
	@touch $@

test-unit: $(BUILD)/test_clienthello $(BUILD)/test_manifest \
		$(BUILD)/test_gwapi $(BUILD)/test_inspect \
		$(BUILD)/test_manifests $(BUILD)/test_kstatus \
		$(BUILD)/test_kube $(BUILD)/test_snatports $(BUILD)/test_csum \
		$(BUILD)/hellos/.done
	HELLO_DIRS="$(BUILD)/hellos $(CORPUS)/hello" $(BUILD)/test_clienthello
	$(BUILD)/test_manifest
	$(BUILD)/test_gwapi
	$(BUILD)/test_inspect
	$(BUILD)/test_manifests
	$(BUILD)/test_kstatus
	$(BUILD)/test_kube
	$(BUILD)/test_snatports
	$(BUILD)/test_csum

test-corpus: $(BUILD)/snilb $(BUILD)/hellos/.done
	./tests/corpus.sh $(BUILD)/snilb

# Differential: the verifier-checked parser against the userspace one, on
# the corpus, our captures, generated mutations and the fuzzer's corpus.
test-kernel: $(BUILD)/test_kdiff $(BUILD)/hellos/.done
	$(BUILD)/test_kdiff -m 4000 $(BUILD)/hellos $(CORPUS)/hello \
		$(BUILD)/fuzz/corpus

# `make fuzz` runs until interrupted (or FUZZ_SECONDS=N make fuzz);
# `make check` runs it for FUZZ_SECONDS (60 s).
# The packet tests: one binary per file, one harness (tests/bpf/harness.c).
PKT_TEST_DEPS := tests/bpf/harness.c tests/bpf/harness.h tests/bpf/packets.h \
		 tests/unit/hello_builder.h user/dataplane.c user/maglev.c \
		 user/kver.c $(HDRS) $(SKELS)
$(BUILD)/test_dataplane $(BUILD)/test_icmp $(BUILD)/test_tcp \
		$(BUILD)/test_snat $(BUILD)/test_vip $(BUILD)/test_bbr \
		$(BUILD)/test_mss $(BUILD)/test_owned: \
		$(BUILD)/test_%: tests/bpf/test_%.c $(PKT_TEST_DEPS) | deps $(BUILD)
	$(CC) $(CFLAGS) -Itests/bpf $< tests/bpf/harness.c \
		user/dataplane.c user/maglev.c user/kver.c -o $@ $(LDLIBS) \
		-lcmocka

# The GC against the data plane (user/gc.c with the harness).
$(BUILD)/test_gc: tests/bpf/test_gc.c user/gc.c user/gc.h $(PKT_TEST_DEPS) \
		| deps $(BUILD)
	$(CC) $(CFLAGS) -Itests/bpf $< tests/bpf/harness.c user/gc.c \
		user/dataplane.c user/maglev.c user/kver.c -o $@ $(LDLIBS) \
		-lcmocka

$(BUILD)/test_sync: tests/bpf/test_sync.c user/sync.c user/gwapi.c \
		user/manifest.c user/dataplane.c user/maglev.c user/kver.c \
		$(HDRS) $(SKELS) | deps $(BUILD)
	$(CC) $(CFLAGS) tests/bpf/test_sync.c user/sync.c user/gwapi.c \
		user/manifest.c user/dataplane.c user/maglev.c user/kver.c \
		-o $@ $(LDLIBS) -lcmocka

$(BUILD)/dpctl: tests/e2e/dpctl.c user/dataplane.c user/maglev.c user/kver.c \
		user/gc.c $(HDRS) \
		$(SKELS) | deps $(BUILD)
	$(CC) $(CFLAGS) tests/e2e/dpctl.c user/dataplane.c user/maglev.c \
		user/kver.c user/gc.c -o $@ $(LDLIBS)

$(BUILD)/dp_ns: tests/bench/dp_ns.c user/dataplane.c user/maglev.c \
		user/kver.c tests/bpf/packets.h $(HDRS) $(SKELS) | deps $(BUILD)
	$(CC) $(CFLAGS) -Itests/bpf tests/bench/dp_ns.c user/dataplane.c \
		user/maglev.c user/kver.c -o $@ $(LDLIBS)

# t-offload.sh's checksum auditor, at tc egress of the gateway.
$(BUILD)/csum_audit.bpf.o: tests/tcp/csum_audit.bpf.c | deps $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/stream: tests/bench/stream.c tests/unit/hello_builder.h | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/stream.c -o $@ -lpthread

# user/kube.c on its own against an API server (tests/kube/kubewatch.c):
# prints object counts and routes on every change. Not part of make check.
$(BUILD)/kubewatch: tests/kube/kubewatch.c user/kube.c user/manifest.c \
		user/log.c $(HDRS) | deps $(BUILD)
	$(CC) $(CFLAGS) tests/kube/kubewatch.c user/kube.c user/manifest.c \
		user/log.c -o $@ -ljansson -lyaml -lcurl -lpthread

# A bounded spoofed-source SYN flood (tests/chaos/traffic.sh).
$(BUILD)/synflood: tests/chaos/synflood.c | $(BUILD)
	$(CC) $(CFLAGS) tests/chaos/synflood.c -o $@

$(BUILD)/sink: tests/bench/sink.c | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/sink.c -o $@ -lpthread

# The delayed-path scenario (tests/bench/paths.sh): a wire with a delay and
# a bottleneck, and a bulk download the backend sends.
$(BUILD)/delay: tests/bench/delay.c | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/delay.c -o $@

$(BUILD)/fetch: tests/bench/fetch.c tests/unit/hello_builder.h | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/fetch.c -o $@ -lpthread

# Real TLS clients and servers through the attached data plane.
test-e2e: $(BUILD)/dpctl
	./tests/e2e/run.sh $(BUILD)

# TCP correctness end to end: loss, half-close, spoofing, MTU, offloads
# (tests/tcp/run.sh runs every tests/tcp/t-*.sh).
test-tcp: all $(BUILD)/dpctl $(BUILD)/fetch $(BUILD)/csum_audit.bpf.o
	./tests/tcp/run.sh $(BUILD)

# The agent on the manifests of examples/, real TLS through what it programs.
test-agent: all
	./tests/e2e/agent.sh $(BUILD)

# The agent against tests/kube/apiserver.py (after its self-test): routing,
# status write-back, 410, outages, Lease election, real TLS through it.
test-kube: all
	python3 tests/kube/selftest.py
	./tests/kube/run.sh $(BUILD)

# Real traffic through the agent with injected faults (docs/chaos.md):
# `make chaos` the full form (a few minutes), `make chaos-quick` the
# bounded one (~90 s, part of make check).
chaos: all $(BUILD)/synflood
	./tests/chaos/traffic.sh $(BUILD)
	./tests/chaos/security.sh $(BUILD)

chaos-quick: all $(BUILD)/synflood
	./tests/chaos/traffic.sh $(BUILD) --quick
	./tests/chaos/security.sh $(BUILD) --quick

# The data plane, packet in -> packet out, with BPF_PROG_TEST_RUN.
test-dataplane: $(BUILD)/test_dataplane $(BUILD)/test_icmp $(BUILD)/test_tcp \
		$(BUILD)/test_snat $(BUILD)/test_vip $(BUILD)/test_bbr \
		$(BUILD)/test_mss $(BUILD)/test_owned $(BUILD)/test_gc \
		$(BUILD)/test_sync
	./tests/in-netns.sh $(BUILD)/test_gc
	./tests/in-netns.sh $(BUILD)/test_dataplane
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_dataplane
	./tests/in-netns.sh $(BUILD)/test_icmp
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_icmp
	./tests/in-netns.sh $(BUILD)/test_tcp
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_tcp
	./tests/in-netns.sh $(BUILD)/test_snat
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_snat
	./tests/in-netns.sh $(BUILD)/test_vip
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_vip
	./tests/in-netns.sh $(BUILD)/test_bbr
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_bbr
	./tests/in-netns.sh $(BUILD)/test_mss
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_mss
	./tests/in-netns.sh $(BUILD)/test_owned
	SNILB_BPF_HELPERS=1 ./tests/in-netns.sh $(BUILD)/test_owned
	$(BUILD)/test_sync

fuzz: $(BUILD)/fuzz_clienthello $(BUILD)/hellos/.done
	./tests/fuzz.sh $(BUILD)/fuzz_clienthello $(BUILD)/fuzz \
		$(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),0)

fuzz-check: $(BUILD)/fuzz_clienthello $(BUILD)/hellos/.done
	./tests/fuzz.sh $(BUILD)/fuzz_clienthello $(BUILD)/fuzz $(FUZZ_SECONDS)

# Cost per hello of both builds of the parser on the real hellos.
bench-parser: $(BUILD)/test_kdiff $(BUILD)/hellos/.done
	$(BUILD)/test_kdiff -b $(BUILD)/hellos $(CORPUS)/hello

# The kernel-facing suites again, in a VM on Debian 12's 6.1 LTS kernel
# (VMTEST_KERNEL=6.12 for another; see docs/testing.md).
VMTEST_KERNEL ?= 6.1
vmtest: all $(BUILD)/test_kdiff $(BUILD)/test_dataplane $(BUILD)/test_tcp \
		$(BUILD)/test_icmp $(BUILD)/test_snat $(BUILD)/test_vip \
		$(BUILD)/test_bbr $(BUILD)/test_mss $(BUILD)/test_owned \
		$(BUILD)/test_gc $(BUILD)/dpctl \
		$(BUILD)/hellos/.done
	vmtest/run --kernel $(VMTEST_KERNEL) --timeout 900 -- \
		./tests/vm-suites.sh $(BUILD)

# What the data plane costs against plain routing (scripts/bench.sh).
bench: all $(BUILD)/dp_ns $(BUILD)/dpctl $(BUILD)/stream $(BUILD)/sink \
		$(BUILD)/delay $(BUILD)/fetch
	./scripts/install-deps.sh bench
	./scripts/bench.sh $(BUILD) $(if $(QUICK),--quick)

check: all test-unit test-corpus fuzz-check test-kernel test-dataplane \
	test-e2e test-tcp test-agent test-kube chaos-quick vmtest

demo: all
	./scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
