# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# nacct — one entry point: deps, all, test, demo, bench, install, clean.
# V=1 shows the commands.

OUTPUT  := .output
CLANG   ?= clang
CC      ?= gcc
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -dumpmachine 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	   -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Imaps -Ictl
LDLIBS  := -lbpf -lxdp -lelf -lz -lpcap -lcrypto
# nacct top: the full-screen view (wide-character ncurses)
LDLIBS  += $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw)
# export (IPFIX) and serve (Prometheus): libfixbuf needs glib's flags too
CFLAGS  += $(shell pkg-config --cflags libfixbuf libmicrohttpd 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs libfixbuf libmicrohttpd 2>/dev/null)
# nacct caps: xdp-features from the "netdev" generic netlink family
CFLAGS  += $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null || echo -I/usr/include/libnl3)
LDLIBS  += $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null || echo -lnl-genl-3 -lnl-3)
# export --clickhouse: ClickHouse's HTTP interface
CFLAGS  += $(shell pkg-config --cflags libcurl 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
# vmlinux.h: the kernel types of the side programs, committed per arch
# (scripts/gen-vmlinux.sh), never taken from the build machine's kernel
VMLINUX_DIR := vmlinux/$(ARCH)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ -Wall \
	      -Wno-unused-function -Imaps -I$(OUTPUT) -I$(VMLINUX_DIR) -I/usr/include/$(MULTIARCH)
# per-object dependency files: a header change rebuilds exactly what includes it
DEPFLAGS = -MMD -MP -MF $(@:.o=.d)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# every *.bpf.c of the program folders becomes an object and a skeleton;
# every .c of ctl/ and af_xdp/ is part of the nacct binary
BPF_DIRS  := xdp tc probes
BPF_SRCS  := $(foreach d,$(BPF_DIRS),$(wildcard $(d)/*.bpf.c))
BPF_OBJS  := $(patsubst %.bpf.c,$(OUTPUT)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS     := $(patsubst %.bpf.o,%.skel.h,$(BPF_OBJS))
LIB_SRCS  := $(wildcard lib/*.c) maps/maps.c
CTL_SRCS  := $(wildcard ctl/*.c af_xdp/*.c) $(LIB_SRCS)
vpath %.bpf.c $(BPF_DIRS)
CTL_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(CTL_SRCS))
UNIT_SRCS := tests/unit/test_prog.c tests/unit/tun.c tests/unit/harness.c tests/unit/pkt.c $(LIB_SRCS)
UNIT_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(UNIT_SRCS))
FUZZ_SRCS := tests/unit/fuzz_prog.c tests/unit/harness.c tests/unit/pkt.c $(LIB_SRCS)
FUZZ_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(FUZZ_SRCS))

# keep generated objects and skeletons between runs
.SECONDARY:

.PHONY: all deps deps-build test test-unit test-integration demo clean install uninstall

all: nacct

deps:
	$(Q)scripts/deps.sh all

deps-build:
	$(Q)scripts/deps.sh build

$(OUTPUT) $(OUTPUT)/ctl $(OUTPUT)/lib $(OUTPUT)/maps $(OUTPUT)/af_xdp $(OUTPUT)/tests/unit:
	$(Q)mkdir -p $@

$(OUTPUT)/config.h: scripts/configure.sh | $(OUTPUT)
	$(call msg,CONFIG,$@)
	$(Q)CC=$(CC) scripts/configure.sh $@

$(VMLINUX_DIR)/vmlinux.h:
	@echo "no $@: generate it with scripts/gen-vmlinux.sh on a kernel with BTF" >&2; exit 1

$(OUTPUT)/%.bpf.o: %.bpf.c $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@ 2>/dev/null || true

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

# skeletons and config.h first (order only): after the first build the
# dependency files name exactly the ones each object includes
$(OUTPUT)/%.o: %.c | $(SKELS) $(OUTPUT)/config.h $(OUTPUT)/ctl $(OUTPUT)/lib $(OUTPUT)/maps $(OUTPUT)/af_xdp $(OUTPUT)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

nacct: $(CTL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/test_unit: $(UNIT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/fuzz_prog: $(FUZZ_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# test tools: traffic generators and helper programs the tests run
TEST_TOOLS := $(OUTPUT)/udpsend $(OUTPUT)/rawsend $(OUTPUT)/tcpxfer $(OUTPUT)/tests/xdp_pass.bpf.o

# the long fuzz run: >= 10M frames through the real programs (seed printed)
NACCT_FUZZ_SEED ?= $(shell date +%s)
.PHONY: test-long
test-long: $(OUTPUT)/fuzz_prog
	$(Q)$(OUTPUT)/fuzz_prog 10000000 $(NACCT_FUZZ_SEED)
	$(Q)$(MAKE) --no-print-directory test-long-harden

# coverage-guided fuzzing of the user-space parsers (libFuzzer + ASan,
# clang's compiler-rt): CIDR lists and the command line; seeds in
# tests/fuzz/corpus/.  `make fuzz-user [FUZZ_SECONDS=N]` (20 s each).
FUZZ_USER_BINS := $(OUTPUT)/fuzz/fuzz_cidr $(OUTPUT)/fuzz/fuzz_args
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	       -std=gnu11 -D_GNU_SOURCE -I$(OUTPUT) -Imaps -Ictl
FUZZ_SECONDS ?= 20
$(OUTPUT)/fuzz/stubs.c: tests/fuzz/gen_stubs.sh ctl/nacct.h ctl/main.c lib/probes.h
	$(Q)mkdir -p $(dir $@)
	$(Q)sh tests/fuzz/gen_stubs.sh ctl/nacct.h ctl/main.c lib/probes.h > $@.tmp && mv $@.tmp $@
$(OUTPUT)/fuzz/fuzz_cidr: tests/fuzz/fuzz_cidr.c ctl/util.c lib/log.c ctl/nacct.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/fuzz_cidr.c ctl/util.c lib/log.c -lbpf -o $@
$(OUTPUT)/fuzz/fuzz_args: tests/fuzz/fuzz_args.c $(OUTPUT)/fuzz/stubs.c ctl/main.c ctl/util.c lib/log.c ctl/nacct.h $(OUTPUT)/config.h
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) tests/fuzz/fuzz_args.c $(OUTPUT)/fuzz/stubs.c ctl/util.c lib/log.c \
		-Dmain=nacct_main ctl/main.c -lbpf -o $@
.PHONY: fuzz-user
fuzz-user: $(FUZZ_USER_BINS)
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS)

# the long soak of the hardening tests (attach/detach 1000 times, capture
# and export 100 times, 300 attach kills) and 10 min of each user fuzzer
.PHONY: test-long-harden
test-long-harden: all $(TEST_TOOLS) $(FUZZ_USER_BINS)
	$(Q)NACCT_SOAK=1 NACCT_TEST_TIMEOUT=14400 tests/run.sh harden
	$(Q)tests/fuzz/run.sh 600

$(OUTPUT)/tests/%.bpf.o: tests/tools/%.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/%: tests/tools/%.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -o $@ $<

# the key check of the unit tests: the data path's and the side programs'
# parser + key builder on the same frames (tests/unit/keycheck.bpf.c, an
# XDP program built against vmlinux.h like the side programs), linked
# into test_unit and fuzz_prog
$(OUTPUT)/tests/keycheck.bpf.o: tests/unit/keycheck.bpf.c $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -Itests/unit -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@ 2>/dev/null || true
$(OUTPUT)/tests/keycheck.skel.h: $(OUTPUT)/tests/keycheck.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name keycheck > $@.tmp && mv $@.tmp $@
$(OUTPUT)/tests/unit/keys.o: $(OUTPUT)/tests/keycheck.skel.h
$(OUTPUT)/test_unit $(OUTPUT)/fuzz_prog: $(OUTPUT)/tests/unit/keys.o

# make check: unit tests without root and without loading BPF (tests/check/):
# the per-CPU merge, the exporter core on an in-memory store (kills at every
# step), IPFIX decoded by libfixbuf, the formatters.  Prints "ok"/"not ok"
# lines and "N passed, N failed"; `make test` runs it first (tests/run.sh)
# the record (lib/fields.c) and what it needs, for the helpers that link
# part of the library: one list, so that a field's new dependency reaches
# every one of them
RECORD_SRCS := lib/fields.c lib/community_id.c lib/tunnels.c lib/names.c lib/side.c lib/obuf.c \
	       lib/log.c maps/maps.c
CHECK_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(wildcard tests/check/*.c)) \
	      $(patsubst %.c,$(OUTPUT)/%.o,lib/exporter.c lib/fmt.c $(RECORD_SRCS) ctl/ipfix.c \
		ctl/sink_ipfix.c ctl/sink_json.c)
$(OUTPUT)/tests/check/%.o: tests/check/%.c | $(OUTPUT)/config.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@
$(OUTPUT)/check: $(CHECK_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
.PHONY: check
check: $(OUTPUT)/check
	$(Q)$(OUTPUT)/check
# the expired counter read the way status and serve read it, for the
# integration tests (test_export_conservation.sh)
$(OUTPUT)/nacct_expired: tests/check/helper/nacct_expired.c \
		$(patsubst %.c,$(OUTPUT)/%.o,lib/exporter.c lib/exporter_bpf.c lib/snapshot.c \
		$(RECORD_SRCS))
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@
# the exporter core's CPU per active-timeout cycle on an in-memory store
# (a benchmark: figures only)
$(OUTPUT)/bench_exporter: tests/check/helper/bench_exporter.c $(OUTPUT)/tests/check/memstore.o \
		$(patsubst %.c,$(OUTPUT)/%.o,lib/exporter.c $(RECORD_SRCS) ctl/ipfix.c ctl/sink_ipfix.c)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# the README's test command: installs what is missing, builds, runs everything
# (make check's tests first)
test: deps
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/check $(OUTPUT)/test_unit $(OUTPUT)/fuzz_prog \
		$(TEST_TOOLS) $(OUTPUT)/nacct_expired
	$(Q)$(MAKE) --no-print-directory $(FUZZ_USER_BINS)
	$(Q)tests/run.sh

test-unit: all $(OUTPUT)/check $(OUTPUT)/test_unit $(OUTPUT)/fuzz_prog $(TEST_TOOLS)
	$(Q)tests/run.sh unit

test-integration: all $(TEST_TOOLS) $(OUTPUT)/nacct_expired
	$(Q)tests/run.sh integration

# the kernel matrix (tests/vm/): the host, then Debian's 5.10, 6.1, 6.12 and
# 7.3 under qemu (TCG; KERNELS="5.10 7.3" picks some); downloads cached in
# /var/tmp/nacct-vm.  Not part of `test`:
# ~10 min with the core tests in each guest (see tests/vm/README)
.PHONY: test-kernels
test-kernels: all $(TEST_TOOLS) $(OUTPUT)/bench_micro
	$(Q)scripts/deps.sh vm
	$(Q)tests/vm/matrix.sh $(KERNELS)

# the main job on a built-in demo: its own netns + veth, real traffic
demo: deps
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/udpsend
	$(Q)scripts/demo.sh

# benchmarks (bench/): their own BPF objects and skeletons in .output/bench/,
# binaries that reuse nacct's skeletons; `make bench-quick` takes minutes
BENCH_BPF_OBJS := $(patsubst bench/%.bpf.c,$(OUTPUT)/bench/%.bpf.o,$(wildcard bench/*.bpf.c))
BENCH_BINS := $(OUTPUT)/bench_micro $(OUTPUT)/bench_gen
$(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(OUTPUT)/bench/%.bpf.o: bench/%.bpf.c $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@ 2>/dev/null || true

$(OUTPUT)/bench/%.skel.h: $(OUTPUT)/bench/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name bench_$* > $@.tmp && mv $@.tmp $@

$(OUTPUT)/bench_micro: bench/micro.c $(OUTPUT)/bench/micro.skel.h $(OUTPUT)/bench/variants.skel.h \
		       $(SKELS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -MF $@.d -Ibench $< $(LDLIBS) -lm -o $@

$(OUTPUT)/bench_gen: bench/gen.c $(OUTPUT)/bench/gen.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -MF $@.d -Ibench $< $(LDLIBS) -lpthread -o $@

.PHONY: bench bench-quick bench-build readme-figures
bench-build: all $(BENCH_BINS) $(BENCH_BPF_OBJS)

bench:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)bench/run.sh

bench-quick:
	$(Q)scripts/deps.sh bench
	$(Q)$(MAKE) --no-print-directory bench-build
	$(Q)bench/run.sh --quick

# README.md's figures block from the newest full run's summary.json
readme-figures:
	$(Q)bench/readme-figures.sh

# the man page is generated from the command table (nacct --man), so it
# lists every command of this build; it is never committed
all: doc/nacct.8
.PHONY: man
man: doc/nacct.8
doc/nacct.8: nacct
	$(call msg,GEN,$@)
	$(Q)mkdir -p doc && ./nacct --man > $@.tmp && mv $@.tmp $@

# make install [PREFIX=/usr/local] [DESTDIR=] [SYSTEMDUNITDIR=...]
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/nacct
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
UNITS := nacct@.service nacct-export@.service nacct-all.service
EXAMPLES := nacct-export.default nacct-all.default
install: nacct doc/nacct.8
	install -D -m 0755 nacct $(DESTDIR)$(SBINDIR)/nacct
	install -D -m 0644 doc/nacct.8 $(DESTDIR)$(MANDIR)/man8/nacct.8
	install -D -m 0644 completion/nacct.bash $(DESTDIR)$(BASHCOMPDIR)/nacct
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' systemd/$$u.in \
			> $(DESTDIR)$(SYSTEMDUNITDIR)/$$u && chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u; \
	done
	for e in $(EXAMPLES); do install -D -m 0644 systemd/$$e $(DESTDIR)$(DOCDIR)/examples/$$e; done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/nacct $(DESTDIR)$(MANDIR)/man8/nacct.8 \
		$(DESTDIR)$(BASHCOMPDIR)/nacct
	for e in $(EXAMPLES); do rm -f $(DESTDIR)$(DOCDIR)/examples/$$e; done
	for u in $(UNITS); do rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/$$u; done
	-rmdir $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) nacct

# the dependency files of every object built so far
-include $(shell find $(OUTPUT) -name '*.d' 2>/dev/null)
