#!/bin/sh
# Builds the PowerPC conformance guest agent (agent.elf, committed so that tests need no
# toolchain) from agent.S with Debian's cross binutils for powerpc64 (big-endian). The
# result is bit-identical on every run: no build id, no dates.
# Usage: arch-ppc/agent/build.sh   (from anywhere)
set -eu
cd "$(dirname "$0")"
AS=${AS:-powerpc64-linux-gnu-as}
LD=${LD:-powerpc64-linux-gnu-ld}
OBJCOPY=${OBJCOPY:-powerpc64-linux-gnu-objcopy}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$AS -a64 -mbig -mpower4 --fatal-warnings -o "$tmp/agent.o" agent.S
$LD -nostdlib -static -T link.ld --build-id=none -z noexecstack -z max-page-size=4096 \
  --no-warn-rwx-segments -o "$tmp/agent.elf" "$tmp/agent.o"
# Keep the labels for disassembly, drop the assembler constants (MB_*, OP_* ...).
$OBJCOPY --wildcard --strip-symbol='[A-Z]*' "$tmp/agent.elf" agent.elf
sha256sum agent.elf
