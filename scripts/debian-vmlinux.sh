#!/usr/bin/env bash
# The DWARF of a distribution kernel, checked and timed: fetches Debian's debug vmlinux of the
# 6.1 kernel the Linux guest runs (linux-image-<version>-amd64-dbg, ~860 MB; the vmlinux, ~630 MB,
# is kept in ~/.cache/kmemscope/linux-dbg), then runs DebianVmlinuxTypesTests: the page
# allocator's and SLUB's layouts read through DWARF (what `--symbols vmlinux` reads) must equal
# the ones read from the same image's .BTF section, and the test prints how long DWARF took.
# Too large for `make test`; run by hand:  bash scripts/debian-vmlinux.sh
set -euo pipefail
export PATH=/opt/swift/usr/bin:$PATH
cd "$(dirname "$0")/.."
cache=${XDG_CACHE_HOME:-$HOME/.cache}/kmemscope/linux-dbg
mkdir -p "$cache"
dep=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
[ -n "$dep" ] || { apt-get update -qq >/dev/null 2>&1 || true; dep=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'); }
[ -n "$dep" ] || { echo "debian-vmlinux: apt-cache knows no linux-image-amd64" >&2; exit 1; }
version=${dep#linux-image-}
vmlinux="$cache/usr/lib/debug/boot/vmlinux-$version"
if [ ! -s "$vmlinux" ]; then
    echo "fetching $dep-dbg (~860 MB) into $cache"
    (cd "$cache" && apt-get download -qq "$dep-dbg" >/dev/null)
    deb=$(ls "$cache"/"$dep"-dbg_*.deb | head -n1)
    dpkg-deb --fsys-tarfile "$deb" | (cd "$cache" && tar -x "./usr/lib/debug/boot/vmlinux-$version")
    rm -f "$deb"
fi
echo "vmlinux: $vmlinux ($(du -h "$vmlinux" | cut -f1))"
swift build --build-tests >/dev/null
KMEMSCOPE_VMLINUX_DBG=$vmlinux /usr/bin/time -f "peak RSS %M KiB, %e s wall" \
    swift test --skip-build --filter DebianVmlinuxTypesTests 2>&1 | grep -E "DWARF of|✔|✘|Expectation|peak RSS"
