#!/bin/sh
# Rebuilds arch-ppc/src/mmu/corpus/translate.bin, the raw code of translate.S (loaded at
# guest-physical 0x1000 by arch-ppc/src/mmu/translate-program.test.ts), with GNU as and
# objcopy for powerpc64 (Debian's binutils-powerpc64-linux-gnu).
set -eu
dir=$(dirname "$0")/../src/mmu/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
powerpc64-linux-gnu-as -mpower4 -many -o "$tmp/translate.o" "$dir/translate.S"
powerpc64-linux-gnu-objcopy -O binary -j .text "$tmp/translate.o" "$dir/translate.bin"
echo "translate.bin: $(wc -c < "$dir/translate.bin") bytes"
