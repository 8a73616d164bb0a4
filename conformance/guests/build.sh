#!/bin/sh
# Builds hvkit's own test guests into <arch>/bin/*.elf (committed, so tests run without a
# toolchain), and regenerates the golden output of the C compute, simd and x87 guests by
# running the same C source natively (<arch>/expected/compute.txt, simd.txt, x87.txt).
# - x86_64: 64-bit PV images, built with the host gcc/as/ld.
# - ppc: 64-bit PowerPC PV images (real mode), built with Debian's powerpc64-linux-gnu-gcc;
#   the native runs are static ppc64 programs under qemu-ppc64 (RUN_PPC64 overrides it).
# - x86: 32-bit PAE PV images, built with Debian's i686-linux-gnu-gcc (gcc-i686-linux-gnu);
#   the native runs are static 32-bit Linux programs, run directly (a 64-bit kernel with
#   IA-32 emulation) or, with RUN_I386=qemu-i386, under qemu-user.
# Sources shared by both arches are in common/ (the arch's rt.h gives them hypercalls and
# printing); each arch folder keeps its startup, linker script and arch-specific guests.
# The bench guests (bench-<workload>.elf, run by bench/c-guests.ts) are the compute, simd
# and x87 workloads (ppc: compute) run N times by common/bench.c; `build.sh native <arch> <dir>` links the
# same objects as static Linux programs into <dir> (the bench's qemu-user peer), and on x86
# they are also linked as multiboot kernels (bench-<workload>-multiboot.elf, for v86).
# Usage: conformance/guests/build.sh [arch...]   (from anywhere; default: x86_64 x86; also ppc)
#        conformance/guests/build.sh native <arch> <dir>
set -eu
native_dir=
if [ "${1:-}" = native ]; then
  [ $# -eq 3 ] || { echo "usage: build.sh native <arch> <dir>" >&2; exit 2; }
  native_dir=$(cd "$3" && pwd)
  shift
  set -- "$1"
fi
cd "$(dirname "$0")"
[ $# -gt 0 ] || set -- x86_64 x86
C=../common
# Objects record common sources by their own name, as if built in the arch folder.
PREFIX_MAP="-ffile-prefix-map=$C/="

# The guests whose C is in common/, each built over the arch's head.S, rt.h and xen.h (and
# its evtchn-entry.S for the event upcall): the caller defines c_guest.
common_guests() {
  c_guest compute $C/compute.c $C/compute-guest.c
  c_guest console-ring $C/console-ring.c
  c_guest domctl-domu $C/domctl-domu.c
  c_guest domctl-info $C/domctl-info.c
  c_guest evtchn-block $C/evtchn-block.c evtchn-entry.S
  c_guest evtchn-domu $C/evtchn-domu.c
  c_guest evtchn-interdomain $C/evtchn-interdomain.c
  c_guest evtchn-ops $C/evtchn-ops.c evtchn-entry.S
  c_guest evtchn-upcall $C/evtchn-upcall.c evtchn-entry.S
  c_guest gnttab-copy $C/gnttab-copy.c
  c_guest gnttab-interdomain $C/gnttab-interdomain.c
  c_guest hypercall-unknown $C/hypercall-unknown.c
  c_guest mem-balloon $C/mem-balloon.c
  c_guest multicall-ops $C/multicall-ops.c
  c_guest time-ops $C/time-ops.c
  c_guest time-timers $C/time-timers.c
  c_guest vcpu-ipi $C/vcpu-ipi.c
  c_guest vcpu-ops $C/vcpu-ops.c
}

# The workloads the bench guests repeat (common/<name>.c, entry <name>_main); an arch
# without simd or x87 (ppc) sets its own list.
BENCH_WORKLOADS="compute simd x87"

# The bench objects in $1: each workload built as its own guest is (GUEST_CFLAGS,
# SIMD_CFLAGS, X87_CFLAGS of the arch), and common/bench.c once for each workload. Their
# initialised data moves to .page_aligned, which link.ld starts on a page of its own: as
# in a Linux program (text and data in separate segments), no page holds both code and
# variables, so writing a variable never discards an emulator's translated code for it.
bench_objects() {
  for w in $BENCH_WORKLOADS; do
    case $w in
      compute) $CC $GUEST_CFLAGS -c -o "$1/compute.o" $C/compute.c ;;
      simd) $CC $SIMD_CFLAGS -c -o "$1/simd.o" $C/simd.c ;;
      x87) $CC $X87_CFLAGS -c -o "$1/x87.o" $C/x87.c ;;
    esac
  done
  for w in $BENCH_WORKLOADS; do
    $CC $GUEST_CFLAGS -DBENCH_WORK=${w}_main -c -o "$1/bench-$w.o" $C/bench.c
  done
  for o in "$1"/*.o; do $OBJCOPY --rename-section .data=.page_aligned "$o"; done
}

# The bench guests in bin/ (and, where the arch has MULTIBOOT set, multiboot kernels).
bench_guests() {
  obj=$(mktemp -d)
  bench_objects "$obj"
  for w in $BENCH_WORKLOADS; do
    $CC $GUEST_CFLAGS $LDFLAGS -o "bin/bench-$w.elf" head.S $RT_SOURCES $C/bench-guest.c \
      "$obj/bench-$w.o" "$obj/$w.o" $LIBS
    if [ -n "${MULTIBOOT:-}" ]; then
      $CC $GUEST_CFLAGS $LDFLAGS -o "bin/bench-$w-multiboot.elf" multiboot.S bench-multiboot.c \
        "$obj/bench-$w.o" "$obj/$w.o" $LIBS
    fi
  done
  rm -rf "$obj"
}

# The bench programs: the same objects linked as static Linux programs into $1.
bench_natives() {
  obj=$(mktemp -d)
  bench_objects "$obj"
  for w in $BENCH_WORKLOADS; do
    $CC $NATIVE_FLAGS -static -no-pie -O2 -o "$1/bench-$w" $C/bench-native.c "$obj/bench-$w.o" "$obj/$w.o"
  done
  rm -rf "$obj"
}

# The x86_64 compilers and flags.
flags_x86_64() {
  cd x86_64
  CC=${CC:-gcc}
  OBJCOPY=${OBJCOPY:-objcopy}
  GUEST_CFLAGS="-m64 -O2 -Wall -Wextra -ffreestanding -fno-pic -fno-pie -mcmodel=small -mno-red-zone \
    -mgeneral-regs-only -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
    -fno-builtin -fno-tree-loop-distribute-patterns -I. -I$C $PREFIX_MAP"
  LDFLAGS="-nostdlib -static -no-pie -Wl,-T,link.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments"
  LIBS=
  RT_SOURCES=$C/rt.c
  NATIVE_FLAGS=-m64
  # The x87 guest: long double arithmetic on the x87 unit only (no SSE, no MMX).
  X87_CFLAGS=$(echo "$GUEST_CFLAGS" | sed 's/-mgeneral-regs-only/-mno-sse -mno-mmx -mfpmath=387 -fno-math-errno/')
  # simd: C built for SSE4.2 with -O3 (vectorised float, double and integer loops); only
  # simd.c leaves -mgeneral-regs-only out, the runtime stays integer-only.
  SIMD_CFLAGS="$(echo "$GUEST_CFLAGS" | sed 's/-mgeneral-regs-only//; s/-O2/-O3/') -msse4.2 -fno-math-errno"
}

build_x86_64() {
  flags_x86_64
  mkdir -p bin expected
  asm_guest() { # name source [defines...]
    name=$1; src=$2; shift 2
    $CC $GUEST_CFLAGS "$@" $LDFLAGS -o "bin/$name.elf" head.S "$src"
  }
  c_guest() { # name sources...
    name=$1; shift
    $CC $GUEST_CFLAGS $LDFLAGS -o "bin/$name.elf" head.S $C/rt.c "$@"
  }

  asm_guest hello hello.S
  asm_guest exit-reboot exit-code.S -DREASON=1
  asm_guest exit-crash exit-code.S -DREASON=3
  asm_guest fault-no-handler fault-no-handler.S
  c_guest traps traps.c traps-entry.S
  c_guest hypercall-page hypercall-page.c
  c_guest mmu mmu.c
  common_guests
  c_guest gnttab-ops gnttab-ops.c
  c_guest mem-ops mem-ops.c
  c_guest bench-hypercall bench-hypercall.c
  c_guest bench-pingpong bench-pingpong.c evtchn-entry.S
  c_guest domctl-ops $C/domctl-ops.c
  c_guest bench-xenstore bench-xenstore.c
  c_guest privregs privregs.c traps-entry.S
  $CC $X87_CFLAGS $LDFLAGS -o bin/x87.elf head.S $C/rt.c $C/x87.c $C/x87-guest.c
  c_guest segments segments.c traps-entry.S

  simd_obj=$(mktemp --suffix=.o)
  $CC $SIMD_CFLAGS -c -o "$simd_obj" $C/simd.c
  $CC $GUEST_CFLAGS $LDFLAGS -o bin/simd.elf head.S $C/rt.c $C/simd-guest.c "$simd_obj"
  rm -f "$simd_obj"
  bench_guests

  # Golden output of the compute, simd and x87 guests: the same C code, run natively.
  tmp=$(mktemp -d)
  $CC -O2 -Wall -o "$tmp/compute-native" $C/compute.c $C/compute-native.c
  "$tmp/compute-native" > expected/compute.txt
  $CC -O3 -msse4.2 -fno-math-errno -Wall -fno-builtin -fno-tree-loop-distribute-patterns -o "$tmp/simd-native" $C/simd.c $C/simd-native.c
  "$tmp/simd-native" > expected/simd.txt
  $CC -O2 -Wall -mno-sse -mno-mmx -mfpmath=387 -fno-math-errno -fno-builtin -c -o "$tmp/x87.o" $C/x87.c
  $CC -O2 -Wall -o "$tmp/x87-native" "$tmp/x87.o" $C/x87-native.c
  "$tmp/x87-native" > expected/x87.txt
  rm -rf "$tmp"
  strip --strip-debug bin/*.elf
  ls -l bin
}

# The x86 (i686) compilers and flags.
flags_x86() {
  cd x86
  CC=${X86_CC:-i686-linux-gnu-gcc}
  STRIP=${X86_STRIP:-i686-linux-gnu-strip}
  OBJCOPY=${X86_OBJCOPY:-i686-linux-gnu-objcopy}
  RUN=${RUN_I386:-}
  # i686 without SSE for everything but simd (as Debian's i386 baseline); libgcc gives
  # the 64-bit division and conversion helpers 32-bit code calls.
  GUEST_CFLAGS="-m32 -march=i686 -O2 -Wall -Wextra -ffreestanding -fno-pic -fno-pie \
    -mgeneral-regs-only -fno-stack-protector -fcf-protection=none -fno-asynchronous-unwind-tables \
    -fno-builtin -fno-tree-loop-distribute-patterns -I. -I$C $PREFIX_MAP"
  LDFLAGS="-nostdlib -static -no-pie -Wl,-T,link.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments"
  LIBS=-lgcc
  RT_SOURCES=$C/rt.c
  NATIVE_FLAGS=-m32
  MULTIBOOT=yes
  # x87: long double on the x87 unit only (-mfpmath=387, the i386 default, no SSE/MMX).
  X87_CFLAGS=$(echo "$GUEST_CFLAGS" | sed 's/-mgeneral-regs-only/-mno-sse -mno-mmx -mfpmath=387 -fno-math-errno/')
  # simd: -O3 with SSE2 for both vector loops and scalar float/double (-mfpmath=sse); only
  # simd.c leaves -mgeneral-regs-only out.
  SIMD_FLAGS="-O3 -msse2 -mfpmath=sse -fno-math-errno"
  SIMD_CFLAGS="$(echo "$GUEST_CFLAGS" | sed 's/-mgeneral-regs-only//; s/-O2//') $SIMD_FLAGS"
}

build_x86() {
  flags_x86
  mkdir -p bin expected
  asm_guest() { # name source [defines...]
    name=$1; src=$2; shift 2
    $CC $GUEST_CFLAGS "$@" $LDFLAGS -o "bin/$name.elf" head.S "$src"
  }
  c_guest() { # name sources...
    name=$1; shift
    $CC $GUEST_CFLAGS $LDFLAGS -o "bin/$name.elf" head.S $C/rt.c "$@" $LIBS
  }

  asm_guest hello hello.S
  asm_guest exit-reboot exit-code.S -DREASON=1
  asm_guest exit-crash exit-code.S -DREASON=3
  asm_guest fault-no-handler fault-no-handler.S
  c_guest hypercall-page hypercall-page.c
  c_guest traps traps.c traps-entry.S
  c_guest mmu mmu.c
  common_guests

  $CC $X87_CFLAGS $LDFLAGS -o bin/x87.elf head.S $C/rt.c $C/x87.c $C/x87-guest.c $LIBS

  simd_obj=$(mktemp --suffix=.o)
  $CC $SIMD_CFLAGS -c -o "$simd_obj" $C/simd.c
  $CC $GUEST_CFLAGS $LDFLAGS -o bin/simd.elf head.S $C/rt.c $C/simd-guest.c "$simd_obj" $LIBS
  rm -f "$simd_obj"
  bench_guests

  # Golden output: the same C, built the same way, run as a static 32-bit Linux program.
  tmp=$(mktemp -d)
  $CC -static -O2 -Wall -o "$tmp/compute-native" $C/compute.c $C/compute-native.c
  $RUN "$tmp/compute-native" > expected/compute.txt
  $CC -static $SIMD_FLAGS -Wall -fno-builtin -fno-tree-loop-distribute-patterns -o "$tmp/simd-native" $C/simd.c $C/simd-native.c
  $RUN "$tmp/simd-native" > expected/simd.txt
  $CC -O2 -Wall -mno-sse -mno-mmx -mfpmath=387 -fno-math-errno -fno-builtin -c -o "$tmp/x87.o" $C/x87.c
  $CC -static -O2 -Wall -o "$tmp/x87-native" "$tmp/x87.o" $C/x87-native.c
  $RUN "$tmp/x87-native" > expected/x87.txt
  rm -rf "$tmp"
  $STRIP --strip-debug bin/*.elf
  ls -l bin
}

# The 64-bit PowerPC (big-endian, ELFv1) compilers and flags: Debian's
# powerpc64-linux-gnu-gcc for a 970 without AltiVec; the native runs are static ppc64
# Linux programs under qemu-ppc64 (qemu-user).
flags_ppc() {
  cd ppc
  CC=${PPC_CC:-powerpc64-linux-gnu-gcc}
  STRIP=${PPC_STRIP:-powerpc64-linux-gnu-strip}
  OBJCOPY=${PPC_OBJCOPY:-powerpc64-linux-gnu-objcopy}
  RUN=${RUN_PPC64:-qemu-ppc64}
  GUEST_CFLAGS="-m64 -mbig-endian -mcpu=970 -mno-altivec -O2 -Wall -Wextra -ffreestanding -fno-pic -fno-pie \
    -fno-stack-protector -fno-asynchronous-unwind-tables -fno-builtin -fno-tree-loop-distribute-patterns \
    -I. -I$C $PREFIX_MAP"
  LDFLAGS="-nostdlib -static -no-pie -Wl,-T,link.ld -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--no-warn-rwx-segments"
  LIBS=-lgcc
  RT_SOURCES="start-info.c $C/rt.c"
  NATIVE_FLAGS="-m64 -mcpu=970 -mno-altivec"
  # No SSE and no x87 on PowerPC: the bench repeats compute only.
  BENCH_WORKLOADS=compute
}

# ppc guests run in real mode (guest-physical addresses; translated and gnttab-copy turn
# translation on with hpt.h, the image mapped at its own addresses), every pointer a
# hypercall reads an inline xencomm handle (rt.h), start_info read from the device tree
# (start-info.c); the common guests whose tests need no feature ppc lacks (PPC_COMMON_GUESTS).
PPC_COMMON_GUESTS="console-ring domctl-domu domctl-info evtchn-block evtchn-domu evtchn-interdomain
  evtchn-ops evtchn-upcall gnttab-copy hypercall-unknown multicall-ops time-ops time-timers vcpu-ipi
  vcpu-ops"
build_ppc() {
  flags_ppc
  mkdir -p bin expected
  ppc_guest() { # name sources...
    name=$1; shift
    $CC $GUEST_CFLAGS $LDFLAGS -o "bin/$name.elf" head.S $RT_SOURCES "$@" $LIBS
  }
  ppc_guest hello hello.c
  ppc_guest exit-reboot exit-code.c -DREASON=1
  ppc_guest exit-crash exit-code.c -DREASON=3
  ppc_guest compute $C/compute.c $C/compute-guest.c
  ppc_guest fault-no-handler fault-no-handler.c
  ppc_guest domctl-ops $C/domctl-ops.c
  # translated: H_ENTERs its own pages, turns on IR/DR with rfid and prints from there.
  ppc_guest translated translated.c
  c_guest() { # name sources...: the common guests ppc builds
    case " $(echo $PPC_COMMON_GUESTS) " in *" $1 "*) ppc_guest "$@" ;; esac
  }
  common_guests
  bench_guests

  # Golden output: the same C, built the same way, run as a static ppc64 Linux program.
  tmp=$(mktemp -d)
  $CC -static -mcpu=970 -mno-altivec -O2 -Wall -o "$tmp/compute-native" $C/compute.c $C/compute-native.c
  $RUN "$tmp/compute-native" > expected/compute.txt
  rm -rf "$tmp"
  $STRIP --strip-debug bin/*.elf
  ls -l bin
}

for arch; do
  case $arch in
    x86_64) if [ -n "$native_dir" ]; then (flags_x86_64; bench_natives "$native_dir"); else (build_x86_64); fi ;;
    x86) if [ -n "$native_dir" ]; then (flags_x86; bench_natives "$native_dir"); else (build_x86); fi ;;
    ppc) if [ -n "$native_dir" ]; then (flags_ppc; bench_natives "$native_dir"); else (build_ppc); fi ;;
    *) echo "build.sh: no guests for arch '$arch' (x86_64, x86, ppc)" >&2; exit 2 ;;
  esac
done
