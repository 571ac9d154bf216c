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
# The userspace, one folder per layer, lowest last (docs/architecture.md):
# each is an archive; a layer calls only those after it in this list.
LAYERS   := cli agent gwapi source model dataplane lib
USER_INC := -Iinclude $(addprefix -Iuser/,$(LAYERS)) -I$(BUILD)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE $(WARN) $(USER_INC)
DEPFLAGS  = -MMD -MP
LDLIBS   := -lbpf -lelf -lz -ljansson -lyaml -lpthread
# BPF: plain uapi headers (Debian keeps asm/ under the multiarch dir).
BPF_CFLAGS := -O2 -g $(WARN) -target bpf -Iinclude -I$(ARCH_INC)
# Tests and the fuzzer run under ASan/UBSan so an out-of-bounds read in the
# parser fails loudly instead of passing by luck.
SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
TEST_CFLAGS := -O1 -g -std=c11 -D_GNU_SOURCE $(WARN) $(SAN) $(USER_INC)

BPF_OBJS := $(BUILD)/hello_probe.bpf.o $(BUILD)/snilb.bpf.o \
	    $(BUILD)/snilb_h.bpf.o
SKELS    := $(BPF_OBJS:.bpf.o=.skel.h)
# Objects: $(BUILD)/obj for the binaries, $(BUILD)/tobj (sanitized) for
# the unit tests; one archive per layer in each.
layer_objs = $(patsubst user/%.c,$(BUILD)/$(2)/%.o,$(wildcard user/$(1)/*.c))
USER_LIBS := $(foreach l,$(LAYERS),$(BUILD)/obj/libsnilb-$(l).a)
TEST_LIBS := $(foreach l,$(LAYERS),$(BUILD)/tobj/libsnilb-$(l).a)
LINK_USER := -Wl,--start-group $(USER_LIBS) -Wl,--end-group $(LDLIBS)
LINK_TEST := -Wl,--start-group $(TEST_LIBS) -Wl,--end-group $(LDLIBS)

FUZZ_SECONDS ?= 60
CORPUS   ?= $(abspath ../shared/corpus)
export CORPUS

.SECONDARY: $(BPF_OBJS) $(BPF_OBJS:.bpf.o=.bpf.full.o) $(SKELS)

.PHONY: all deps check test-unit test-corpus test-kernel test-dataplane \
	test-e2e test-tcp test-agent test-kube test-deploy deb test-deb image \
	test-image chaos chaos-quick vmtest fuzz fuzz-check \
	bench bench-parser demo clean FORCE

all: $(BUILD)/snilb

deps:
	@./scripts/install-deps.sh

$(BUILD):
	@mkdir -p $@

$(BUILD)/%.bpf.full.o: bpf/%.bpf.c | deps $(BUILD)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

# The data plane for kernels without bpf_cast_to_kern_ctx() (before 6.3):
# no kfunc for libbpf to look for (bpf/snilb.bpf.c, snilb_ingress).
$(BUILD)/snilb_h.bpf.full.o: bpf/snilb.bpf.c | deps $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -DSNILB_NO_KFUNC $(DEPFLAGS) -c $< -o $@

# Linked by bpftool, as libbpf-bootstrap and the kernel's selftests do:
# the DWARF goes, BTF and its line info stay. The binary embeds half the
# object (1.2 -> 0.66 MB), which the agent reads whole at each start.
$(BUILD)/%.bpf.o: $(BUILD)/%.bpf.full.o | deps
	$(BPFTOOL) gen object $@ $<

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o | deps
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp
	@mv $@.tmp $@

# The version, rewritten only when it changes (what includes it rebuilds).
$(BUILD)/version.h: FORCE | $(BUILD)
	@echo '#define SNILB_VERSION "$(VERSION)"' > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/obj/%.o: user/%.c | deps $(SKELS) $(BUILD)/version.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/tobj/%.o: user/%.c | deps $(SKELS) $(BUILD)/version.h
	@mkdir -p $(@D)
	$(CLANG) $(TEST_CFLAGS) $(DEPFLAGS) -c $< -o $@

define layer_archives
$(BUILD)/obj/libsnilb-$(1).a: $(call layer_objs,$(1),obj)
	@rm -f $$@
	$(AR) rcs $$@ $$^
$(BUILD)/tobj/libsnilb-$(1).a: $(call layer_objs,$(1),tobj)
	@rm -f $$@
	$(AR) rcs $$@ $$^
endef
$(foreach l,$(LAYERS),$(eval $(call layer_archives,$(l))))

$(BUILD)/snilb: $(BUILD)/obj/cli/main.o $(USER_LIBS)
	$(CC) $(CFLAGS) $(LDFLAGS) $< $(LINK_USER) -o $@

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# --- tests ---------------------------------------------------------------

# Unit tests: tests/unit/test_X.c, sanitized, against the layers' archives.
$(BUILD)/test_%: tests/unit/test_%.c $(TEST_LIBS) | deps $(BUILD)
	$(CLANG) $(TEST_CFLAGS) $(DEPFLAGS) $< $(LINK_TEST) -lcmocka -o $@

$(BUILD)/test_kdiff: tests/bpf/kdiff.c $(USER_LIBS) | deps $(BUILD)
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LINK_USER) -o $@

$(BUILD)/fuzz_clienthello: fuzz/fuzz_clienthello.c user/dataplane/hello.c \
		| deps $(BUILD)
	$(CLANG) -O1 -g $(WARN) $(DEPFLAGS) \
		-fsanitize=fuzzer,address,undefined $(USER_INC) \
		fuzz/fuzz_clienthello.c user/dataplane/hello.c -o $@ -ljansson

# Real hellos from the clients installed here (openssl, gnutls, curl,
# python), captured by a local listener: test data we make ourselves.
$(BUILD)/hellos/.done: tests/capture-hellos.sh | deps $(BUILD)
	./tests/capture-hellos.sh $(BUILD)/hellos
	@touch $@

test-unit: $(BUILD)/test_clienthello $(BUILD)/test_clienthello_reject \
		$(BUILD)/test_manifest \
		$(BUILD)/test_manifest_core $(BUILD)/test_manifest_errors \
		$(BUILD)/test_gwapi $(BUILD)/test_gwapi_listeners \
		$(BUILD)/test_maglev $(BUILD)/test_inspect \
		$(BUILD)/test_manifests $(BUILD)/test_kstatus $(BUILD)/test_klbsvc \
		$(BUILD)/test_kube $(BUILD)/test_snatports $(BUILD)/test_csum \
		$(BUILD)/test_opts $(BUILD)/test_names $(BUILD)/test_metrics \
		$(BUILD)/test_accesslog $(BUILD)/test_cookiekey \
		$(BUILD)/test_peers $(BUILD)/test_dl $(BUILD)/hellos/.done
	HELLO_DIRS="$(BUILD)/hellos $(CORPUS)/hello" $(BUILD)/test_clienthello
	$(BUILD)/test_clienthello_reject
	$(BUILD)/test_manifest
	$(BUILD)/test_manifest_core
	$(BUILD)/test_manifest_errors
	$(BUILD)/test_gwapi
	$(BUILD)/test_gwapi_listeners
	$(BUILD)/test_maglev
	$(BUILD)/test_peers
	$(BUILD)/test_inspect
	$(BUILD)/test_manifests
	$(BUILD)/test_kstatus
	$(BUILD)/test_klbsvc
	$(BUILD)/test_kube
	$(BUILD)/test_snatports
	$(BUILD)/test_csum
	$(BUILD)/test_opts
	$(BUILD)/test_dl
	$(BUILD)/test_names
	$(BUILD)/test_metrics
	$(BUILD)/test_accesslog
	$(BUILD)/test_cookiekey

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
$(BUILD)/test_%: tests/bpf/test_%.c tests/bpf/harness.c $(USER_LIBS) \
		| deps $(BUILD)
	$(CC) $(CFLAGS) $(DEPFLAGS) -Itests/bpf $< tests/bpf/harness.c \
		$(LINK_USER) -lcmocka -o $@

$(BUILD)/dpctl: tests/e2e/dpctl.c $(USER_LIBS) | deps $(BUILD)
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LINK_USER) -o $@

$(BUILD)/dp_ns: tests/bench/dp_ns.c $(USER_LIBS) | deps $(BUILD)
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LINK_USER) -o $@

$(BUILD)/dp_mem: tests/bench/dp_mem.c $(USER_LIBS) | deps $(BUILD)
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LINK_USER) -o $@

# t-offload.sh's checksum auditor, at tc egress of the gateway.
$(BUILD)/csum_audit.bpf.o: tests/tcp/csum_audit.bpf.c | deps $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/xdp_pass.bpf.o: tests/tcp/xdp_pass.bpf.c | deps $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
# tests/bench/synrate.sh's SYN generator: live frames through xdpgen.bpf.o.
$(BUILD)/xdpgen.bpf.o: tests/bench/xdpgen.bpf.c | deps $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BUILD)/xdpgen: tests/bench/xdpgen.c tests/lib/packets.h | deps $(BUILD)
	$(CC) $(CFLAGS) tests/bench/xdpgen.c -o $@ -lbpf -lelf -lz

$(BUILD)/stream: tests/bench/stream.c tests/lib/hello_builder.h | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/stream.c -o $@ -lpthread

# The Kubernetes source on its own against an API server
# (tests/kube/kubewatch.c): prints object counts and routes on every change.
# Not part of make check.
$(BUILD)/kubewatch: tests/kube/kubewatch.c $(USER_LIBS) | deps $(BUILD)
	$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LINK_USER) -o $@

# A bounded spoofed-source SYN flood (tests/chaos/traffic.sh).
$(BUILD)/synflood: tests/chaos/synflood.c | $(BUILD)
	$(CC) $(CFLAGS) tests/chaos/synflood.c -o $@

$(BUILD)/sink: tests/bench/sink.c | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/sink.c -o $@ -lpthread

# The delayed-path scenario (tests/bench/paths.sh): a wire with a delay and
# a bottleneck, and a bulk download the backend sends.
$(BUILD)/delay: tests/bench/delay.c | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/delay.c -o $@

$(BUILD)/fetch: tests/bench/fetch.c tests/lib/hello_builder.h | $(BUILD)
	$(CC) $(CFLAGS) tests/bench/fetch.c -o $@ -lpthread

# Real TLS clients and servers through the attached data plane.
test-e2e: $(BUILD)/dpctl $(BUILD)/snilb
	./tests/e2e/run.sh $(BUILD)
	./tests/e2e/proxy.sh $(BUILD)
	./tests/e2e/accesslog.sh $(BUILD)
	./tests/e2e/nat46.sh $(BUILD)
	./tests/e2e/multinode.sh $(BUILD)
	MN_TOPO=l3 ./tests/e2e/multinode.sh $(BUILD)

# TCP correctness end to end: loss, half-close, spoofing, MTU, offloads
# (tests/tcp/run.sh runs every tests/tcp/t-*.sh).
test-tcp: all $(BUILD)/dpctl $(BUILD)/fetch $(BUILD)/csum_audit.bpf.o \
		$(BUILD)/xdp_pass.bpf.o
	./tests/tcp/run.sh $(BUILD)

# The agent on the manifests of examples/, real TLS through what it programs;
# then its failed starts, each leaving the node as it was.
test-agent: all
	./tests/e2e/agent.sh $(BUILD)
	./tests/e2e/startup.sh $(BUILD)

# The agent against tests/kube/apiserver.py (after its self-test): routing,
# status write-back, 410, outages, Lease election, real TLS through it.
test-kube: all
	python3 tests/kube/selftest.py
	./tests/kube/run.sh $(BUILD)

# deploy/ without a cluster: `kubectl kustomize deploy/` renders, the image
# is its one knob, every object is valid against its kind's schema, and
# `snilb agent --check` accepts them (a few seconds; part of make check).
test-deploy: all
	./tests/deploy/run.sh $(BUILD)

# The Debian package (docs/install.md): the binary built again, in
# $(BUILD)/pkg, with Debian's hardening flags (dpkg-buildflags), then
# packaged by scripts/mkdeb.sh into $(BUILD)/deb/. test-deb: lintian,
# systemd-analyze, dpkg -i into a fresh mmdebstrap root (a few minutes:
# not part of make check).
deb: | deps
	./scripts/install-deps.sh package
	./scripts/hardened.sh $(MAKE) BUILD=$(BUILD)/pkg $(BUILD)/pkg/snilb
	rm -f $(BUILD)/deb/snilb_*.deb
	./scripts/mkdeb.sh $(BUILD)/pkg/snilb $(BUILD)/deb

test-deb: deb
	./tests/deb/run.sh $(BUILD)

# The container image (docs/install.md): a Debian 12 root made by
# mmdebstrap, imported into podman, then deploy/Containerfile on it; the
# image is the binary and its libraries (IMAGE, default
# localhost/snilb:latest). test-image runs it as the DaemonSet does
# (~1 min after the image; not part of make check: it needs podman).
IMAGE ?= localhost/snilb:latest
image: | deps
	./scripts/install-deps.sh image
	./scripts/mkimage.sh $(BUILD) $(IMAGE)

test-image: all image
	./tests/image/run.sh $(BUILD) $(IMAGE)

# Real traffic through the agent with injected faults (docs/chaos.md):
# `make chaos` the full form (a few minutes), `make chaos-quick` the
# bounded one (~90 s, part of make check).
chaos: all $(BUILD)/synflood $(BUILD)/xdp_pass.bpf.o
	./tests/chaos/traffic.sh $(BUILD)
	ONLY=t_synflood XDP=1 ./tests/chaos/traffic.sh $(BUILD)
	./tests/chaos/security.sh $(BUILD)

chaos-quick: all $(BUILD)/synflood $(BUILD)/xdp_pass.bpf.o
	./tests/chaos/traffic.sh $(BUILD) --quick
	ONLY=t_synflood XDP=1 ./tests/chaos/traffic.sh $(BUILD) --quick
	./tests/chaos/security.sh $(BUILD) --quick

# The data plane, packet in -> packet out, with BPF_PROG_TEST_RUN: each
# tests/bpf/test_X.c of PACKET_TESTS in a namespace of its own, twice: the
# second time with the ingress variant kernels before 6.3 load.
PACKET_TESTS := cookie hello route splice icmp tcp snat vip bbr mss owned \
		proxy alog nat46 xdp multinode nodetable steerwrap
PACKET_BINS  := $(addprefix $(BUILD)/test_,$(PACKET_TESTS))

define run_packet_test
	./tests/lib/in-netns.sh $(BUILD)/test_$(1)
	SNILB_BPF_HELPERS=1 ./tests/lib/in-netns.sh $(BUILD)/test_$(1)

endef

test-dataplane: $(PACKET_BINS) $(BUILD)/test_reaper $(BUILD)/test_tc \
		$(BUILD)/test_sync $(BUILD)/test_pins
	./tests/lib/in-netns.sh $(BUILD)/test_reaper
	./tests/lib/in-netns.sh $(BUILD)/test_tc
	./tests/lib/in-netns.sh $(BUILD)/test_pins
	$(foreach t,$(PACKET_TESTS),$(call run_packet_test,$(t)))
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
# (VMTEST_KERNEL=6.12 for another; see docs/testing.md). About 8 minutes
# under TCG on an idle machine; the bound allows a busy one.
VMTEST_KERNEL ?= 6.1
vmtest: all $(BUILD)/test_kdiff $(PACKET_BINS) $(BUILD)/test_reaper \
		$(BUILD)/test_tc $(BUILD)/test_pins $(BUILD)/dpctl $(BUILD)/xdp_pass.bpf.o \
		$(BUILD)/hellos/.done
	vmtest/run --kernel $(VMTEST_KERNEL) --timeout 2400 -- \
		./tests/vm-suites.sh $(BUILD)

# What the data plane costs against plain routing (scripts/bench.sh).
bench: all $(BUILD)/dp_ns $(BUILD)/dp_mem $(BUILD)/xdpgen $(BUILD)/xdpgen.bpf.o $(BUILD)/xdp_pass.bpf.o $(BUILD)/dpctl $(BUILD)/stream $(BUILD)/sink \
		$(BUILD)/delay $(BUILD)/fetch
	./scripts/install-deps.sh bench
	./scripts/bench.sh $(BUILD) $(if $(QUICK),--quick)

check: all test-unit test-corpus fuzz-check test-kernel test-dataplane \
	test-e2e test-tcp test-agent test-kube test-deploy chaos-quick vmtest

demo: all
	./scripts/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
