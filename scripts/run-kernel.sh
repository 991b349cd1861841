#!/usr/bin/env bash
# Boots kernel/build/kernel.elf in QEMU (TCG) with its serial port on stdout.
#   scripts/run-kernel.sh [MEMORY] [KERNEL COMMAND LINE] [extra qemu args...]
# e.g. scripts/run-kernel.sh 1G "poison=1" -gdb tcp:127.0.0.1:1234
set -euo pipefail
cd "$(dirname "$0")/.."
mem=${1:-128M}; shift || true
append=${1:-}; shift || true
exec qemu-system-x86_64 -kernel kernel/build/kernel.elf -m "$mem" -append "$append" \
    -serial stdio -display none -no-reboot -accel tcg \
    -device isa-debug-exit,iobase=0xf4,iosize=4 "$@"
