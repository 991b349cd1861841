#!/usr/bin/env bash
# A stock Linux guest for kmemscope: Debian's current kernel (linux-image-amd64; KMEMSCOPE_LINUX_VERSION=6.12
# or 6.1-rt for the others bookworm has) and a
# busybox-static initramfs whose /init prints /proc/buddyinfo, /proc/pagetypeinfo,
# /proc/zoneinfo and the kallsyms lines kmemscope needs to the serial port, then idles.
#
#   scripts/linux-guest.sh prepare          fetch + build into the cache; prints KEY=VALUE lines
#   scripts/linux-guest.sh boot RUNDIR      boot it under TCG in the background:
#                                           RUNDIR/gdb.sock (gdbstub), RUNDIR/serial.log,
#                                           RUNDIR/qemu.pid, RUNDIR/qemu.log
#                                           (nokaslr unless KMEMSCOPE_LINUX_KASLR=1; KMEMSCOPE_LINUX_SMP=N
#                                           CPUs; KMEMSCOPE_LINUX_BUSY=1 keeps the allocators busy)
#   scripts/linux-guest.sh wait RUNDIR      wait (120 s at most) until /init is done, then write
#                                           what it printed: RUNDIR/kallsyms, allocator-text, buddyinfo,
#                                           pagetypeinfo, zoneinfo, slabinfo, vmstat, version, iomem,
#                                           vmallocinfo (its first 40 vmalloc lines, real addresses)
#   scripts/linux-guest.sh stop RUNDIR      stop that QEMU (SIGTERM, then SIGKILL)
#
# Cache: ${KMEMSCOPE_CACHE:-$HOME/.cache/kmemscope}/linux (never committed; reused when present).
# Needs apt-get, dpkg-deb, python3, gzip, qemu-system-x86_64. Nothing is installed: the
# packages are downloaded with `apt-get download` and unpacked with `dpkg-deb -x`.
set -euo pipefail

cache="${KMEMSCOPE_CACHE:-$HOME/.cache/kmemscope}/linux"
# The symbols the decoder reads; /init greps exactly these out of /proc/kallsyms. Measured under
# TCG: the grep takes ~3 s, printing all of kallsyms (94,268 lines) to the serial port ~16 s.
# Functions that change the page allocator's or SLUB's lists (6.1 and 6.12 names; a name the
# kernel lacks or inlined is simply absent): a vCPU stopped inside one is not at a settled point.
# The same names as AllocatorText.functionNames (Sources/LinuxKernel/Settle; a test compares them).
code="__rmqueue_pcplist|rmqueue_bulk|rmqueue|rmqueue_buddy|__rmqueue_smallest|__rmqueue|__rmqueue_fallback|__free_one_page|free_one_page|free_pcppages_bulk|free_unref_page|free_unref_page_list|free_unref_page_commit|free_unref_folios|free_frozen_page_commit|free_frozen_pages|move_freepages|move_freepages_block|__move_freepages_block|steal_suitable_fallback|try_to_claim_block|get_page_from_freelist|__alloc_pages_bulk|alloc_pages_bulk_noprof|drain_pages_zone|drain_zone_pages|__isolate_free_page|__putback_isolated_page|split_free_page|__free_pages_ok|expand|__del_page_from_free_list|del_page_from_free_list|___slab_alloc|__slab_alloc|__slab_free|deactivate_slab|get_partial_node|put_cpu_partial|__put_partials|__unfreeze_partials|unfreeze_partials|discard_slab|free_slab|__free_slab|allocate_slab|new_slab|add_partial|remove_partial|free_to_partial_list|kmem_cache_alloc|kmem_cache_alloc_lru|kmem_cache_alloc_node|kmem_cache_free|kmem_cache_free_bulk|kmem_cache_alloc_bulk|kfree|__kmalloc|__kmalloc_node|kmalloc_trace|__kmem_cache_alloc_node|__kmem_cache_free|slab_alloc_node|slab_free|refresh_cpu_vm_stats|fold_diff|cpu_vm_stats_fold|drain_zonestat|__mod_zone_page_state|mod_zone_page_state|__mod_zone_freepage_state"
symbols="node_data __start_BTF __stop_BTF page_offset_base vmemmap_base vmalloc_base migratetype_names __per_cpu_offset nr_cpu_ids init_top_pgt _stext _end _text _etext linux_banner mem_section slab_caches nr_node_ids vmstat_text max_pfn"

die() { echo "linux-guest: $*" >&2; exit 1; }

# The versioned kernel package of KMEMSCOPE_LINUX_VERSION: 6.1 (default) → what
# `linux-image-amd64` depends on right now (e.g. linux-image-6.1.0-57-amd64); 6.1-rt → what
# `linux-image-rt-amd64` depends on; 6.12 → the newest linux-image-6.12.*+deb12-amd64-unsigned
# (bookworm's security/backport 6.12; it has no signed image).
kernel_package() {
    case "${KMEMSCOPE_LINUX_VERSION:-6.1}" in
        6.1) meta_dependency linux-image-amd64 ;;
        6.1-rt) meta_dependency linux-image-rt-amd64 ;;
        6.12)
            local name
            name=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' 2>/dev/null | awk '{print $1}' | sort -V | tail -n1)
            if [ -z "$name" ]; then
                apt-get update -qq >/dev/null 2>&1 || true
                name=$(apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' 2>/dev/null | awk '{print $1}' | sort -V | tail -n1)
            fi
            [ -n "$name" ] || die "apt-cache knows no linux-image-6.12.*+deb12-amd64-unsigned (is bookworm-security in the apt sources?)"
            echo "$name" ;;
        *) die "KMEMSCOPE_LINUX_VERSION=${KMEMSCOPE_LINUX_VERSION}: say 6.1, 6.1-rt or 6.12" ;;
    esac
}

# The versioned package the meta-package $1 depends on right now.
meta_dependency() {
    local meta=$1 dep
    dep=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    if [ -z "$dep" ]; then
        apt-get update -qq >/dev/null 2>&1 || true
        dep=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    fi
    [ -n "$dep" ] || die "apt-cache knows no $meta (is this Debian with a deb source for main?)"
    echo "$dep"
}

# apt-get download NAME into the cache unless a .deb of that name is there already.
fetch_deb() {
    local name=$1 deb
    deb=$(ls "$cache"/"${name}"_*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        (cd "$cache" && apt-get download -qq "$name" >/dev/null 2>"$cache/apt-$name.log") ||
            { apt-get update -qq >/dev/null 2>&1 || true
              (cd "$cache" && apt-get download -qq "$name" >/dev/null 2>"$cache/apt-$name.log") ||
                die "apt-get download $name failed: $(tail -n 3 "$cache/apt-$name.log")"; }
        deb=$(ls "$cache"/"${name}"_*.deb | head -n1)
    fi
    echo "$deb"
}

prepare() {
    mkdir -p "$cache"
    local pkg kdeb bdeb version
    pkg=$(kernel_package)
    version=${pkg#linux-image-}
    version=${version%-unsigned}
    kdeb=$(fetch_deb "$pkg")
    bdeb=$(fetch_deb busybox-static)
    local vmlinuz="$cache/vmlinuz-$version"
    if [ ! -s "$vmlinuz" ]; then
        local tmp; tmp=$(mktemp -d "$cache/x.XXXXXX")
        dpkg-deb -x "$kdeb" "$tmp"
        cp "$tmp/boot/vmlinuz-$version" "$vmlinuz.part" && mv "$vmlinuz.part" "$vmlinuz"
        rm -rf "$tmp"
    fi
    # qemu_fw_cfg (a module in Debian's kernels, .ko.xz from 6.12): once loaded, it tells QEMU's
    # `-device vmcoreinfo` where the kernel's VMCOREINFO is, so `dump-guest-memory` writes it
    # into the dump (kmemscope --vmcore, crash and drgn read it there)
    local fwcfg="$cache/qemu_fw_cfg-$version.ko"
    if [ ! -s "$fwcfg" ]; then
        local tmp; tmp=$(mktemp -d "$cache/x.XXXXXX")
        dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp" --wildcards '*/qemu_fw_cfg.ko*'
        local ko; ko=$(find "$tmp" -name 'qemu_fw_cfg.ko*' | head -n1)
        [ -n "$ko" ] || die "$kdeb holds no qemu_fw_cfg.ko"
        case "$ko" in
            *.xz) python3 -c 'import lzma, sys; open(sys.argv[2], "wb").write(lzma.open(sys.argv[1]).read())' "$ko" "$fwcfg.part" ;;
            *) cp "$ko" "$fwcfg.part" ;;
        esac
        mv "$fwcfg.part" "$fwcfg"
        rm -rf "$tmp"
    fi
    local busybox="$cache/busybox"
    if [ ! -x "$busybox" ]; then
        local tmp; tmp=$(mktemp -d "$cache/x.XXXXXX")
        dpkg-deb -x "$bdeb" "$tmp"
        cp "$tmp/bin/busybox" "$busybox.part" && chmod 755 "$busybox.part" && mv "$busybox.part" "$busybox"
        rm -rf "$tmp"
    fi
    # one initramfs per version of this script and kernel (it carries that kernel's qemu_fw_cfg.ko):
    # worktrees with different scripts share the
    # cache without rebuilding each other's (the .part is per process: two builds never mix)
    local script_hash; script_hash=$(sha256sum "$0" | cut -c1-16)
    local initrd="$cache/initramfs-$script_hash-$version.cpio.gz"
    if [ ! -s "$initrd" ]; then
        build_initramfs "$busybox" "$fwcfg" "$initrd.part.$$"
        mv "$initrd.part.$$" "$initrd"
    fi
    echo "KERNEL_PACKAGE=$pkg"
    echo "KERNEL_DEB=$kdeb"
    echo "VMLINUZ=$vmlinuz"
    echo "INITRD=$initrd"
}

# /init: markers are `@@kmemscope NAME begin` / `@@kmemscope NAME end`; `@@kmemscope ready`
# comes last. The allocator's sections come after a pause (the counters settle; vmstat folds
# the per-CPU counter deltas every second), right before `ready`.
init_script() {
    local pattern; pattern=$(echo "$symbols" | sed 's/ /|/g')
    cat <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
exec >/dev/ttyS0 2>&1
# VMCOREINFO for QEMU's dump-guest-memory (with -device vmcoreinfo; harmless without)
insmod /qemu_fw_cfg.ko 2>/dev/null || echo "@@kmemscope note: qemu_fw_cfg not loaded"
section() { echo "@@kmemscope \$1 begin"; cat "\$2"; echo "@@kmemscope \$1 end"; }
echo "@@kmemscope uname \$(uname -r)"
# One pass over /proc/kallsyms (generating its lines is the slow part under TCG; two passes cost
# ~2 s more a boot): the symbols the decoder reads into one file, and the page and slab allocators'
# functions, each with the symbol after it (where it ends), into another: what \`kmemscope\`
# settles a busy guest by (docs/linux-checks.md "Busy guests").
awk '{ if (\$0 ~ / ($pattern)\$/) print > "/kallsyms.txt"; m = (\$3 ~ /^($code)(\\..*)?\$/); if (m || p) print > "/allocator-text.txt"; p = m }' /proc/kallsyms
section kallsyms /kallsyms.txt
section allocator-text /allocator-text.txt
rm -f /kallsyms.txt /allocator-text.txt
# the static sections (and vmstat, for reference) before the quiet wait: their forks settle in it
section vmstat /proc/vmstat
section version /proc/version
section iomem /proc/iomem
# vmallocinfo prints its addresses with %pK: hashed unless kptr_restrict is 1 (root then sees them)
echo 1 > /proc/sys/kernel/kptr_restrict
grep -m 40 vmalloc /proc/vmallocinfo > /tmp/vmallocinfo 2>/dev/null || true
echo 0 > /proc/sys/kernel/kptr_restrict
section vmallocinfo /tmp/vmallocinfo
busy=0
grep -q kmemscope.busy /proc/cmdline && busy=1
ticks=0
grep -q kmemscope.slabticks /proc/cmdline && ticks=1
# Quiet first: the sections are printed once buddyinfo and zoneinfo read the same twice a second
# apart (boot's last frees and vmstat's fold of the CPUs' counter deltas are over; a loaded host
# makes that take longer than a fixed pause), at most 15 s; the busy guest never is.
n=0; prev=""
while [ \$busy = 0 ] && [ \$n -lt 15 ]; do
    cur=\$(cat /proc/buddyinfo /proc/zoneinfo)
    [ "\$cur" = "\$prev" ] && break
    prev=\$cur; n=\$((n + 1)); sleep 1
done
# nothing more after the quiet wait than buddyinfo and the three below: each section forks a cat,
# and one fork more there can empty a per-CPU list and split a buddy block after buddyinfo printed it
section buddyinfo /proc/buddyinfo
section pagetypeinfo /proc/pagetypeinfo
section zoneinfo /proc/zoneinfo
section slabinfo /proc/slabinfo
echo "@@kmemscope ready"
# kmemscope.busy on the command line: keep the page and slab allocators busy (tmpfs files
# written and deleted, processes forked) on every CPU, so tests can attach mid-operation.
# (decided before the sections: nothing forks between them and \`ready\` on an idle guest)
if [ \$busy = 1 ]; then
    [ -e /dev/null ] || mknod /dev/null c 1 3
    [ -e /dev/zero ] || mknod /dev/zero c 1 5
    mount -t tmpfs tmpfs /tmp
    for w in \$(seq \$(grep -c ^processor /proc/cpuinfo)); do
        ( i=0; while true; do
            dd if=/dev/zero of=/tmp/f\$w.\$i bs=16k count=\$((1 + i % 64)) 2>/dev/null
            cat /tmp/f\$w.\$i > /dev/null
            [ \$((i % 4)) = 3 ] && rm -f /tmp/f\$w.*
            i=\$(( (i + 1) % 1000 ))
          done ) &
    done
fi
# kmemscope.slabticks: /proc/slabinfo again every second, with nothing forked (the shell's own
# read and echo; \`read -t\` on a FIFO nobody writes is the pause): a test brackets kmemscope's
# read between the last print before it and the first after it (docs/linux-checks.md "slabinfo")
if [ \$ticks = 1 ]; then
    mkfifo /tick; exec 3<> /tick
    while true; do
        echo "@@kmemscope slabinfo-tick begin"
        while IFS= read -r line; do echo "\$line"; done < /proc/slabinfo
        echo "@@kmemscope slabinfo-tick end"
        read -t 1 line <&3
    done
fi
while true; do sleep 3600; done
INIT
}

build_initramfs() {
    local busybox=$1 fwcfg=$2 out=$3
    local initfile; initfile=$(mktemp)
    init_script > "$initfile"
    python3 - "$busybox" "$initfile" "$out" "$fwcfg" <<'PY'
import gzip, os, sys
busybox, init, out, fwcfg = sys.argv[1:5]
entries = []   # (name, mode, data)
for d in ("bin", "dev", "proc", "sys", "tmp"):
    entries.append((d, 0o040755, b""))
entries.append(("bin/busybox", 0o100755, open(busybox, "rb").read()))
entries.append(("init", 0o100755, open(init, "rb").read()))
entries.append(("qemu_fw_cfg.ko", 0o100644, open(fwcfg, "rb").read()))
def record(ino, name, mode, data, rdev=(0, 0)):
    n = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(n), 0))
    b = hdr.encode() + n
    b += b"\0" * (-len(b) % 4) + data
    return b + b"\0" * (-len(b) % 4)
blob = b""
for i, (name, mode, data) in enumerate(entries, start=1):
    blob += record(i, name, mode, data)
blob += record(len(entries) + 1, "dev/console", 0o020600, b"", (5, 1))
blob += record(len(entries) + 2, "dev/ttyS0", 0o020660, b"", (4, 64))
blob += record(0, "TRAILER!!!", 0, b"")
with gzip.open(out, "wb", compresslevel=6) as f:
    f.write(blob)
PY
    rm -f "$initfile"
}

boot() {
    local run=${1:?usage: linux-guest.sh boot RUNDIR}
    mkdir -p "$run"
    local vars; vars=$(prepare)
    local vmlinuz initrd
    vmlinuz=$(sed -n 's/^VMLINUZ=//p' <<<"$vars")
    initrd=$(sed -n 's/^INITRD=//p' <<<"$vars")
    rm -f "$run/gdb.sock" "$run/serial.log" "$run/qemu.pid"
    # KMEMSCOPE_LINUX_KASLR=1 boots with KASLR on (the kernel image moves; its kallsyms follow).
    local kaslr=nokaslr
    [ "${KMEMSCOPE_LINUX_KASLR:-0}" = 1 ] && kaslr=kaslr
    # KMEMSCOPE_LINUX_SMP=N gives the guest N CPUs; KMEMSCOPE_LINUX_BUSY=1 keeps its allocators busy.
    local busy=""
    [ "${KMEMSCOPE_LINUX_BUSY:-0}" = 1 ] && busy=" kmemscope.busy"
    qemu-system-x86_64 -nodefaults -no-user-config -display none -accel tcg -m "${KMEMSCOPE_LINUX_MEM:-512M}" \
        -smp "${KMEMSCOPE_LINUX_SMP:-1}" -kernel "$vmlinuz" -initrd "$initrd" \
        -append "console=ttyS0 $kaslr quiet panic=-1$busy" -no-reboot \
        -serial "file:$run/serial.log" -device vmcoreinfo \
        -chardev "socket,id=g,path=$run/gdb.sock,server=on,wait=off" -gdb chardev:g \
        -pidfile "$run/qemu.pid" -daemonize >"$run/qemu.log" 2>&1 ||
        die "qemu failed: $(cat "$run/qemu.log")"
    echo "$vars"
    echo "RUNDIR=$run"
    echo "GDB_SOCKET=$run/gdb.sock"
    echo "SERIAL=$run/serial.log"
    echo "PIDFILE=$run/qemu.pid"
}

wait_ready() {
    local run=${1:?usage: linux-guest.sh wait RUNDIR} i
    for ((i = 0; i < 600; i++)); do
        grep -q '@@kmemscope ready' "$run/serial.log" 2>/dev/null && break
        sleep 0.2
    done
    grep -q '@@kmemscope ready' "$run/serial.log" 2>/dev/null || die "the guest did not print '@@kmemscope ready' within 120 s (see $run/serial.log)"
    local section
    for section in kallsyms allocator-text buddyinfo pagetypeinfo zoneinfo slabinfo vmstat version iomem vmallocinfo; do
        tr -d '\r' <"$run/serial.log" | sed -n "/^@@kmemscope $section begin\$/,/^@@kmemscope $section end\$/p" | sed '1d;$d' >"$run/$section"
    done
    echo "KALLSYMS=$run/kallsyms"
}

stop_guest() {
    local run=${1:?usage: linux-guest.sh stop RUNDIR} pid i
    pid=$(cat "$run/qemu.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
    prepare) prepare ;;
    boot) shift; boot "$@" ;;
    wait) shift; wait_ready "$@" ;;
    stop) shift; stop_guest "$@" ;;
    *) echo "usage: $0 prepare | boot RUNDIR | wait RUNDIR | stop RUNDIR" >&2; exit 2 ;;
esac
