#!/usr/bin/env bash
# libFuzzer targets for what reads untrusted bytes (issue 10):
#   snapshot    the snapshot decoder, the verifier, the views and the op-log decoder over
#               corrupted memory under a valid descriptor (KernelMM booted on the host by the
#               shared harness, Sources/KernelHarness, as the tests and model-bench boot it)
#   descriptor  kmem_info's parser, then both decoders under the mutated descriptor
#   packet      GDBRemote's packet codec, stop-reply, qSupported and hex parsers
#   targetxml   the target.xml parser (with includes) and register values
#   elf         the ELF front (libelf/libdw) on mutated kernel images
#   snapfile    the snapshot-file reader (kmemscope snapshot -o): checks, then reads at every region's edges
#   vmcore      --vmcore's readers: the ELF-core parser (program headers, PN_XNUM, notes), VMCOREINFO,
#               QEMU's CPU notes, reads through the core's page tables; the kdump header and the
#               flattened-format rearrangement (libkdumpfile itself is not fuzzed)
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   build, then run each target SECONDS (default 15)
#   scripts/fuzz.sh --build                 build only
#   FUZZ_OPT=-O scripts/fuzz.sh 300         optimised build (~5 min to compile; ~10x the
#                                           executions of the default -Onone build, for long runs)
#
# The module sources are compiled with swiftc -sanitize=fuzzer,address (ASan and libFuzzer's
# coverage; Swift's overflow and bounds traps are crashes too) into .build/fuzz-Onone (or -O), outside
# SwiftPM's products. Seeds are generated into $B/seeds/TARGET; the corpus a run grows is
# kept in $B/corpus/TARGET; crashes land in $B/crashes. Exit 1 if
# any target crashed (the reproducer's path is printed), 2 if the build failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
OPT=${FUZZ_OPT:--Onone}
B=.build/fuzz$OPT
TARGETS_ALL=(snapshot descriptor packet targetxml elf snapfile vmcore)
mkdir -p "$B/obj" "$B/crashes"

# swiftc 6.3 refuses -sanitize=undefined ("unsupported option ... for target
# x86_64-unknown-linux-gnu"); Swift's own checks (overflow, bounds, conversions) trap in every
# build, -Onone and -O alike, and libFuzzer reports the trap as a crash.
SAN="-sanitize=fuzzer,address"
FLAGS=(-parse-as-library -wmo "$OPT" -gline-tables-only $SAN -I "$B/obj" -I Sources/CLibElf -I Sources/CLibDW -I Sources/CZlib -I Sources/CLibKdumpfile)

module() {  # NAME SOURCES...
    local name=$1; shift
    local stamp="$B/obj/$name.o"
    local newest
    newest=$(ls -t "$@" | head -1)
    if [[ -f $stamp && $stamp -nt $newest ]]; then return; fi
    echo "fuzz: compiling $name" >&2
    # (`|| return 1`: errexit is off inside a function called from `build || exit 2`)
    swiftc "${FLAGS[@]}" -module-name "$name" -emit-module -emit-module-path "$B/obj/$name.swiftmodule" \
        -c "$@" -o "$stamp" || { rm -f "$stamp"; return 1; }
}

target() {  # NAME MODULES...
    local name=$1; shift
    local objs=()
    for m in "$@"; do objs+=("$B/obj/$m.o"); done
    local exe="$B/fuzz-$name"
    local newest
    newest=$(ls -t Fuzz/Targets/$name.swift Fuzz/Support/*.swift "${objs[@]}" | head -1)
    if [[ -f $exe && $exe -nt $newest ]]; then return; fi
    echo "fuzz: linking fuzz-$name" >&2
    local support=()
    [[ " $* " == *" KernelMM "* ]] && support=(Fuzz/Support/*.swift)
    swiftc "${FLAGS[@]}" -module-name "Fuzz_$name" "Fuzz/Targets/$name.swift" "${support[@]}" "${objs[@]}" \
        -lelf -ldw -lz -lkdumpfile -use-ld=lld -o "$exe" || { rm -f "$exe"; return 1; }
}

build() {
    module AllocatorView Sources/AllocatorView/*.swift || return 1
    module AllocatorText Sources/AllocatorText/*.swift || return 1
    module AllocatorChecks Sources/AllocatorChecks/*.swift || return 1
    module BundledState Sources/BundledState/*.swift || return 1
    module AllocatorModel Sources/AllocatorModel/*.swift || return 1
    module BundledChecks Sources/BundledChecks/*.swift || return 1
    module KernelLayouts $(find Sources/KernelLayouts -name "*.swift" | sort) || return 1
    module BundledKernel Sources/BundledKernel/*.swift || return 1
    module GDBRemote Sources/GDBRemote/*.swift || return 1
    module KernelMM kernel/mm/*.swift || return 1
    module KernelHarness Sources/KernelHarness/*.swift || return 1
    target snapshot AllocatorView AllocatorText AllocatorChecks BundledState AllocatorModel BundledChecks KernelLayouts BundledKernel KernelMM KernelHarness || return 1
    target descriptor AllocatorView AllocatorText AllocatorChecks BundledState AllocatorModel BundledChecks KernelLayouts BundledKernel KernelMM KernelHarness || return 1
    target packet GDBRemote || return 1
    target targetxml GDBRemote || return 1
    # images and memory only: KernelLayouts no longer carries the bundled kernel's decoder
    target elf AllocatorView KernelLayouts || return 1
    target snapfile AllocatorView KernelLayouts || return 1
    target vmcore AllocatorView KernelLayouts || return 1
}

seeds() {  # writes small seed inputs for each target
    local s=$B/seeds
    mkdir -p "$s"/{snapshot,descriptor,packet,targetxml,elf,snapfile,vmcore}
    KMEMSCOPE_FUZZ_WRITE_VMCORE="$s/vmcore" "$B/fuzz-vmcore" -runs=0 >/dev/null 2>&1 || true
    KMEMSCOPE_FUZZ_WRITE_SNAPSHOT="$s/snapfile/small" "$B/fuzz-snapfile" -runs=0 >/dev/null 2>&1 || true
    printf '\x00\x10\x00\x00\x00\x08\xff\xff\xff\xff\xff\xff\xff\xff' > "$s/snapshot/one-patch"
    printf '\x03\x40\x00\x00\x00\x04\x00\x00\x00\x00\x05\x00\x01\x00\x00\x01\x00' > "$s/snapshot/two-patches"
    KMEMSCOPE_FUZZ_WRITE_DESCRIPTOR="$s/descriptor/arena" "$B/fuzz-descriptor" -runs=0 >/dev/null 2>&1 || true
    printf '+$T05thread:p01.01;watch:ffff888000001000;#00$S05#b8+$W00#b7%%Stop:T02#00$PacketSize=1000;qXfer:features:read+;vContSupported+;multiprocess+#00' > "$s/packet/replies"
    printf '$0*"1}]#00-$E14#aa' > "$s/packet/rle-escape"
    printf '<?xml version="1.0"?><target><architecture>i386:x86-64</architecture><xi:include href="i386-64bit.xml"/></target>\0<feature name="org.gnu.gdb.i386.core"><!-- <reg name="cs_base" bitsize="64"/> --><reg name="rax" bitsize="64" type="int64"/><reg name="rip" bitsize="64" type="code_ptr" regnum="16"/><reg name="eflags" bitsize="32"/></feature>\0''0011223344556677889900112233445566778899aabbccdd' > "$s/targetxml/qemu"
    if [[ -f kernel/build/kernel.elf ]]; then
        # A stripped copy keeps the seed small; the full image is the second seed.
        strip -g -o "$s/elf/kernel-stripped.elf" kernel/build/kernel.elf 2>/dev/null || true
        cp kernel/build/kernel.elf "$s/elf/kernel.elf"
    fi
}

if [[ ${1:-} == --build ]]; then build || exit 2; exit 0; fi
SECONDS_PER=${1:-15}; shift || true
TARGETS=("$@"); [[ ${#TARGETS[@]} -eq 0 ]] && TARGETS=("${TARGETS_ALL[@]}")
build || exit 2
seeds
status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "$B/corpus/$t"
    max_len=4096; [[ $t == elf ]] && max_len=$(( $(stat -c %s "$B/seeds/elf/kernel.elf" 2>/dev/null || echo 1048576) + 4096 ))
    [[ $t == descriptor || $t == snapfile || $t == vmcore ]] && max_len=20000
    log="$B/$t.log"
    if SWIFT_BACKTRACE=enable=no "$B/fuzz-$t" -max_total_time="$SECONDS_PER" -max_len="$max_len" -timeout=20 -rss_limit_mb=4096 \
            -artifact_prefix="$B/crashes/$t-" -print_final_stats=1 "$B/corpus/$t" "$B/seeds/$t" >"$log" 2>&1; then
        execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
        echo "fuzz: $t: ${SECONDS_PER}s, ${execs:-?} executions, $cov, no crash"
    else
        echo "fuzz: $t: CRASH — $(grep -m1 -E 'ERROR: |Fatal error|deadly signal' "$log" || true)"
        grep -m1 'Test unit written to' "$log" || true
        echo "fuzz: log in $log"
        status=1
    fi
done
exit $status
