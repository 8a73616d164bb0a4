#!/bin/sh
# Rebuilds arch-ppc/src/cpu/corpus/c/compute.elf from compute.c and start.S with
# powerpc64-linux-gnu-gcc (freestanding, static, text at 1 MiB so a small real-mode memory
# holds it) and records what it prints under qemu-ppc64 -cpu 970fx in compute.out, the
# oracle for arch-ppc/src/cpu/c-program.test.ts.
set -eu
dir=$(dirname "$0")/../src/cpu/corpus/c
powerpc64-linux-gnu-gcc -O2 -mcpu=970 -mno-altivec -ffreestanding -fno-builtin -nostdlib -static -s \
  -Wl,-Ttext-segment=0x100000 -Wl,--build-id=none \
  -o "$dir/compute.elf" "$dir/start.S" "$dir/compute.c"
qemu-ppc64 -cpu 970fx "$dir/compute.elf" > "$dir/compute.out"
echo "compute.elf: $(wc -c < "$dir/compute.elf") bytes; compute.out: $(wc -l < "$dir/compute.out") lines"
