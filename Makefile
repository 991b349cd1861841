# kmemscope: `make demo` runs the main job on a fresh Debian machine, `make test` runs every test.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: all kernel tool demo test bench deps clean

all: kernel tool

include kernel/Makefile.inc

## Install what is missing (apt-get, non-interactive).
deps:
	@bash scripts/install-deps.sh

## Build the Embedded Swift kernel: kernel/build/kernel.elf (DWARF, GNU build-id).
kernel: $(KERNEL_ELF)

## Build the host toolkit.
tool:
	swift build

## Install, build, boot the kernel in QEMU and show its zones.
demo: deps kernel tool
	@bash scripts/demo.sh

## Install, build the kernel, run every test (host unit/property tests and QEMU boots).
test: deps kernel
	swift test

## Boot 1G…32G guests and print one table: stub, memory-file and QEMU-process reads against gdb
## and a bare reader, verify end to end with peak RSS, host allocator and replay (docs/performance.md).
bench: deps kernel
	@bash scripts/bench.sh

clean:
	rm -rf $(KBUILD) .build
