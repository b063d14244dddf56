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
LDLIBS  := -lbpf -lxdp -lelf -lz
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ -Wall \
	      -Wno-unused-function -Imaps -I$(OUTPUT) -I/usr/include/$(MULTIARCH)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS  := xdp/nacct_xdp.bpf.c tc/nacct_tc.bpf.c
BPF_OBJS  := $(patsubst %.bpf.c,$(OUTPUT)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS     := $(patsubst %.bpf.o,%.skel.h,$(BPF_OBJS))
BPF_HDRS  := $(wildcard maps/*.h)
CTL_SRCS  := $(wildcard ctl/*.c) maps/maps.c
CTL_OBJS  := $(patsubst %.c,$(OUTPUT)/%.o,$(CTL_SRCS))
UNIT_SRCS := tests/unit/test_prog.c maps/maps.c
UNIT_OBJS := $(patsubst %.c,$(OUTPUT)/%.o,$(UNIT_SRCS))

.PHONY: all deps deps-build test test-unit test-integration demo clean install uninstall

all: nacct

deps:
	$(Q)scripts/deps.sh all

deps-build:
	$(Q)scripts/deps.sh build

$(OUTPUT) $(OUTPUT)/ctl $(OUTPUT)/maps $(OUTPUT)/tests/unit:
	$(Q)mkdir -p $@

$(OUTPUT)/config.h: scripts/configure.sh | $(OUTPUT)
	$(call msg,CONFIG,$@)
	$(Q)CC=$(CC) scripts/configure.sh $@

$(OUTPUT)/%.bpf.o: xdp/%.bpf.c $(BPF_HDRS) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@ 2>/dev/null || true

$(OUTPUT)/%.bpf.o: tc/%.bpf.c $(BPF_HDRS) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@ 2>/dev/null || true

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.o: %.c $(SKELS) $(OUTPUT)/config.h $(wildcard ctl/*.h maps/*.h) | $(OUTPUT)/ctl $(OUTPUT)/maps $(OUTPUT)/tests/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

nacct: $(CTL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/test_unit: $(UNIT_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

# the README's test command: installs what is missing, builds, runs everything
test: deps
	$(Q)$(MAKE) --no-print-directory all $(OUTPUT)/test_unit
	$(Q)tests/run.sh

test-unit: all $(OUTPUT)/test_unit
	$(Q)tests/run.sh unit

test-integration: all
	$(Q)tests/run.sh integration

# the main job on a built-in demo: its own netns + veth, real traffic
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

PREFIX ?= /usr/local
install: nacct
	install -D -m 0755 nacct $(DESTDIR)$(PREFIX)/sbin/nacct

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/nacct

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) nacct
