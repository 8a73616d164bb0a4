#!/bin/sh
# Builds the IA-64 conformance guest agent (agent.elf, committed so that tests need no
# toolchain) from agent.S with Debian's cross binutils for ia64 (Debian has no IA-64
# compiler; the source uses only the assembler's own macros). The result is bit-identical
# on every run: no build id, no dates. The assembler checks the IA-64 dependency rules
# (-x) and any warning fails the build.
# Usage: arch-ia64/agent/build.sh   (from anywhere)
set -eu
cd "$(dirname "$0")"
AS=${AS:-ia64-linux-gnu-as}
LD=${LD:-ia64-linux-gnu-ld}
OBJCOPY=${OBJCOPY:-ia64-linux-gnu-objcopy}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$AS -x --fatal-warnings -o "$tmp/agent.o" agent.S
$LD -nostdlib -static -T link.ld --build-id=none -z noexecstack -z max-page-size=16384 \
  --no-warn-rwx-segments -o "$tmp/agent.elf" "$tmp/agent.o"
# Keep the labels for disassembly, drop the assembler constants (MB_*, OP_* ...).
$OBJCOPY --wildcard --strip-symbol='[A-Z]*' "$tmp/agent.elf" agent.elf
sha256sum agent.elf
