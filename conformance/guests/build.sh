#!/bin/sh
# Builds hvkit's own test guests with the host gcc/as/ld into x86_64/bin/*.elf (committed,
# so tests run without a toolchain), and regenerates the golden output of the C
# compute, simd and x87 guests by running the same C source natively
# (x86_64/expected/compute.txt, simd.txt, x87.txt).
# Usage: conformance/guests/build.sh   (from anywhere)
set -eu
cd "$(dirname "$0")/x86_64"
mkdir -p bin expected

CC=${CC:-gcc}
GUEST_CFLAGS="-m64 -O2 -Wall -Wextra -ffreestanding -fno-pic -fno-pie -mcmodel=small -mno-red-zone \
  -mgeneral-regs-only -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
  -fno-builtin -fno-tree-loop-distribute-patterns"
LDFLAGS="-nostdlib -static -no-pie -Wl,-T,link.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments"

asm_guest() { # name source [defines...]
  name=$1; src=$2; shift 2
  $CC $GUEST_CFLAGS "$@" $LDFLAGS -o "bin/$name.elf" head.S "$src"
}
# The x87 guest: long double arithmetic on the x87 unit only (no SSE, no MMX).
X87_CFLAGS=$(echo "$GUEST_CFLAGS" | sed 's/-mgeneral-regs-only/-mno-sse -mno-mmx -mfpmath=387 -fno-math-errno/')
c_guest() { # name sources...
  name=$1; shift
  $CC $GUEST_CFLAGS $LDFLAGS -o "bin/$name.elf" head.S rt.c "$@"
}

asm_guest hello hello.S
asm_guest exit-reboot exit-code.S -DREASON=1
asm_guest exit-crash exit-code.S -DREASON=3
asm_guest fault-no-handler fault-no-handler.S
c_guest traps traps.c traps-entry.S
c_guest hypercall-page hypercall-page.c
c_guest mmu mmu.c
c_guest compute compute.c compute-guest.c
c_guest evtchn-upcall evtchn-upcall.c evtchn-entry.S
c_guest evtchn-block evtchn-block.c evtchn-entry.S
c_guest console-ring console-ring.c
c_guest mem-balloon mem-balloon.c
c_guest gnttab-copy gnttab-copy.c
c_guest vcpu-ipi vcpu-ipi.c
c_guest time-timers time-timers.c
c_guest domctl-info domctl-info.c
c_guest evtchn-ops evtchn-ops.c evtchn-entry.S
c_guest gnttab-ops gnttab-ops.c
c_guest evtchn-interdomain evtchn-interdomain.c
c_guest evtchn-domu evtchn-domu.c
c_guest gnttab-interdomain gnttab-interdomain.c
c_guest mem-ops mem-ops.c
c_guest bench-hypercall bench-hypercall.c
c_guest bench-pingpong bench-pingpong.c evtchn-entry.S
c_guest vcpu-ops vcpu-ops.c
c_guest time-ops time-ops.c
c_guest multicall-ops multicall-ops.c
c_guest domctl-ops domctl-ops.c
c_guest bench-xenstore bench-xenstore.c
c_guest domctl-domu domctl-domu.c
c_guest privregs privregs.c traps-entry.S
$CC $X87_CFLAGS $LDFLAGS -o bin/x87.elf head.S rt.c x87.c x87-guest.c
c_guest segments segments.c traps-entry.S

# simd: C built for SSE4.2 with -O3 (vectorised float, double and integer loops); only
# simd.c leaves -mgeneral-regs-only out, the runtime stays integer-only.
SIMD_CFLAGS="$(echo "$GUEST_CFLAGS" | sed 's/-mgeneral-regs-only//; s/-O2/-O3/') -msse4.2 -fno-math-errno"
simd_obj=$(mktemp --suffix=.o)
$CC $SIMD_CFLAGS -c -o "$simd_obj" simd.c
$CC $GUEST_CFLAGS $LDFLAGS -o bin/simd.elf head.S rt.c simd-guest.c "$simd_obj"
rm -f "$simd_obj"

# Golden output of the compute guest: the same C code, run natively.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$CC -O2 -Wall -o "$tmp/compute-native" compute.c compute-native.c
"$tmp/compute-native" > expected/compute.txt
$CC -O3 -msse4.2 -fno-math-errno -Wall -fno-builtin -fno-tree-loop-distribute-patterns -o "$tmp/simd-native" simd.c simd-native.c
"$tmp/simd-native" > expected/simd.txt
$CC -O2 -Wall -mno-sse -mno-mmx -mfpmath=387 -fno-math-errno -fno-builtin -c -o "$tmp/x87.o" x87.c
$CC -O2 -Wall -o "$tmp/x87-native" "$tmp/x87.o" x87-native.c
"$tmp/x87-native" > expected/x87.txt
strip --strip-debug bin/*.elf
ls -l bin
