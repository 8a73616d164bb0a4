#!/bin/sh
# Builds the x86 (32-bit PAE PV) conformance guest agent (agent.elf, committed so that
# tests need no toolchain) from agent.S with GNU as/ld through gcc's preprocessor:
# Debian's i686-linux-gnu gcc and binutils. The result is bit-identical on every run: no build id, no dates.
# Usage: arch-x86/agent/build.sh   (from anywhere)
set -eu
cd "$(dirname "$0")"
CC=${CC:-i686-linux-gnu-gcc}
LD=${LD:-i686-linux-gnu-ld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$CC -c -o "$tmp/agent.o" agent.S
$LD -nostdlib -static -T link.ld --build-id=none -z noexecstack -z max-page-size=4096 \
  --no-warn-rwx-segments -o agent.elf "$tmp/agent.o"
sha256sum agent.elf
