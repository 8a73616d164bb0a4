#!/usr/bin/env bash
# Regenerates core/src/abi/golden/layouts.json: the size, alignment and every field's
# offset and size of hvkit's ABI structs, as gcc lays out the C declarations in
# core/scripts/struct-oracle.c.
#
#   x86_64 : gcc -m64                       (always)
#   x86_32 : gcc -m32                       (i386 System V; compile-only, so no multilib
#                                            libraries are needed: -ffreestanding -S)
#   ppc64  : powerpc64-linux-gnu-gcc(-12)   (if installed: apt-get install -y
#                                            gcc-12-powerpc64-linux-gnu; big-endian LP64)
#   ia64   : no cross compiler is packaged; its layouts are checked by derived properties
#            in the tests instead.
#
# Nothing is linked or run: the values are read from marker lines in the assembler output.
# Every struct in core/src/abi/catalog.ts needs a declaration in struct-oracle.c (the
# field list is generated from the catalog, so a missing struct or member fails to
# compile); layouts.test.ts fails for a catalog struct without golden data.
#
# struct-oracle.c is hvkit's own C; nothing from Xen is compiled here or committed. Its
# declarations were checked once against gcc's layout of Xen's own public headers (a
# scratch build outside the repository, 2026-11-28), with no difference in any size,
# alignment, offset or field size:
#   x86_64, x86_32 : RELEASE-4.19.0 (domctl.h getmemlist: RELEASE-4.10.0, its last release;
#                    io/console.h `connection` and io/xs_wire.h `evtchn_port`: 4.21, where
#                    they were added); x86_32 has no iret_context.
#   ppc64          : RELEASE-4.19.0 for the arch-neutral structs; shared_info, vcpu_info,
#                    arch_*_info, start_info and mmuext_op against the PowerPC port's
#                    headers before its removal (1aa3c54a31), fields added since excluded.
#   e820entry is not in Xen's public headers (xen/arch/x86/include/asm/e820.h).
# Run from anywhere: bash core/scripts/gen-struct-golden.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
out="$root/core/src/abi/golden/layouts.json"
mkdir -p "$(dirname "$out")"

compile() { # model compiler flags...
  local model="$1" cc="$2"; shift 2
  mkdir -p "$tmp/$model"
  (cd "$root" && npx tsx core/scripts/struct-golden.ts fields "$model") > "$tmp/$model/struct-oracle-fields.h"
  "$cc" "$@" -std=gnu11 -O0 -ffreestanding -S -I "$tmp/$model" -o "$tmp/$model.s" "$here/struct-oracle.c"
  inputs+=("$model=$tmp/$model.s")
}

inputs=()
compile x86_64 gcc -m64
compile x86_32 gcc -m32
ppc=""
for c in powerpc64-linux-gnu-gcc powerpc64-linux-gnu-gcc-12; do
  if command -v "$c" >/dev/null 2>&1; then ppc="$c"; break; fi
done
if [ -n "$ppc" ]; then
  compile ppc64 "$ppc" -m64 -mbig-endian
else
  echo "note: no powerpc64 cross gcc; ppc64 golden layouts not generated" >&2
fi
(cd "$root" && npx tsx core/scripts/struct-golden.ts collect "$out" "${inputs[@]}")
echo "wrote $out"
