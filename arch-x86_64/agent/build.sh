#!/bin/sh
# Builds the x86_64 conformance guest agent (agent.elf, committed so that tests need no
# toolchain) from agent.S with GNU as/ld through gcc's preprocessor: Debian's gcc and
# binutils for x86_64. The result is bit-identical on every run: no build id, no dates.
# Usage: arch-x86_64/agent/build.sh   (from anywhere)
set -eu
cd "$(dirname "$0")"
CC=${CC:-gcc}
LD=${LD:-ld}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$CC -c -o "$tmp/agent.o" agent.S
$LD -nostdlib -static -T link.ld --build-id=none -z noexecstack -z max-page-size=4096 \
  --no-warn-rwx-segments -o agent.elf "$tmp/agent.o"
sha256sum agent.elf
