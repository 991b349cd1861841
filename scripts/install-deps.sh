#!/usr/bin/env bash
# Installs, through apt-get and only when missing, what kmemscope needs on Debian 12:
# QEMU (x86_64, TCG), libelf/libdw/libbpf/libedit/zlib/libkdumpfile headers for the toolkit, pkg-config, elfutils, gdb, iproute2,
# chromium (the report's screenshot test), tmux (the attach console's terminal test), makedumpfile (a vmcore test reads its output); time and bc for scripts/bench.sh.
set -euo pipefail
need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in qemu-system-x86 libelf-dev libdw-dev libbpf-dev libedit-dev zlib1g-dev libkdumpfile-dev makedumpfile pkg-config elfutils gdb iproute2 make chromium tmux time bc; do
    have_pkg "$p" || need+=("$p")
done
if ((${#need[@]})); then
    echo "installing: ${need[*]}"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export PATH=/opt/swift/usr/bin:$PATH
for c in swiftc ld.lld clang; do
    command -v "$c" >/dev/null || { echo "error: $c not found: kmemscope needs the Swift 6.3 toolchain (with ld.lld and clang) on PATH or in /opt/swift/usr/bin" >&2; exit 1; }
done
