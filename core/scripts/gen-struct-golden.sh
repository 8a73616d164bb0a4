#!/usr/bin/env bash
# Regenerates the golden struct layouts of arch packages: <package>/src/golden/layouts.json,
# the size, alignment and every field's offset and size of every ABI struct in each of the
# package's data models (the common catalog, core/src/abi/catalog.ts, plus the model's own
# `structs`), as gcc lays out the C declarations: core/scripts/struct-oracle.c for the
# common structs, <package>/scripts/struct-oracle-arch.h for the arch's parts and structs.
#
# A package takes part by having <package>/scripts/golden-models, one line per data model:
#   <export of the package's src/index.ts> <compiler>[,<alternative>...] <flags...>
# e.g. arch-x86:  X86_64_DATA_MODEL gcc -m64    and    X86_32_DATA_MODEL gcc -m32
#      arch-ppc:  PPC64_DATA_MODEL powerpc64-linux-gnu-gcc,powerpc64-linux-gnu-gcc-12 ...
# (apt-get install -y gcc-12-powerpc64-linux-gnu). A package one of whose compilers is
# missing is left as it is, with a note. IA-64 has no packaged cross compiler; its model
# is checked by derived properties in arch-ia64's tests instead.
#
# Nothing is linked or run: the values are read from marker lines in the assembler output
# (compile-only, -ffreestanding -S, so no multilib libraries are needed). The field list is
# generated from the TypeScript definitions, so a struct or member missing on the C side
# fails to compile; the package's layouts test fails for a struct without golden data.
#
# The C declarations are hvkit's own; nothing from Xen is compiled here or committed. They
# were checked once against gcc's layout of Xen's own public headers (a scratch build
# outside the repository, 2026-11-28), with no difference in any size, alignment, offset
# or field size:
#   x86_64, x86_32 : RELEASE-4.19.0 (domctl.h getmemlist: RELEASE-4.10.0, its last release;
#                    io/console.h `connection` and io/xs_wire.h `evtchn_port`: 4.21, where
#                    they were added); x86_32 has no iret_context.
#   ppc64          : RELEASE-4.19.0 for the arch-neutral structs; shared_info, vcpu_info,
#                    arch_*_info, start_info and mmuext_op against the PowerPC port's
#                    headers before its removal (1aa3c54a31), fields added since excluded.
#   e820entry is not in Xen's public headers (xen/arch/x86/include/asm/e820.h).
#
# Run from anywhere:  bash core/scripts/gen-struct-golden.sh [<package folder>...]
# (default: every top-level folder with scripts/golden-models).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

helper() { # struct-golden.ts with the packages' TypeScript sources
  (cd "$root" && TSX_TSCONFIG_PATH=tsconfig.base.json \
    node --conditions=source --import tsx core/scripts/struct-golden.ts "$@")
}

packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
  for f in "$root"/*/scripts/golden-models; do packages+=("$(basename "$(dirname "$(dirname "$f")")")"); done
fi

for pkg in "${packages[@]}"; do
  dir="$root/$pkg"
  models="$dir/scripts/golden-models"
  [ -f "$models" ] || { echo "$pkg: no scripts/golden-models" >&2; exit 2; }
  inputs=()
  skip=""
  while read -r export compilers flags; do
    case "$export" in ''|'#'*) continue ;; esac
    cc=""
    IFS=',' read -ra candidates <<<"$compilers"
    for c in "${candidates[@]}"; do
      if command -v "$c" >/dev/null 2>&1; then cc="$c"; break; fi
    done
    if [ -z "$cc" ]; then skip="no compiler for $export ($compilers)"; break; fi
    mkdir -p "$tmp/$pkg/$export"
    helper fields "$pkg" "$export" > "$tmp/$pkg/$export/struct-oracle-fields.h"
    # shellcheck disable=SC2086
    "$cc" $flags -std=gnu11 -O0 -ffreestanding -S -I "$tmp/$pkg/$export" -I "$dir/scripts" \
      -o "$tmp/$pkg/$export.s" "$here/struct-oracle.c"
    inputs+=("$export=$tmp/$pkg/$export.s")
  done <"$models"
  if [ -n "$skip" ]; then
    echo "note: $pkg: $skip; its golden layouts are left as they are" >&2
    continue
  fi
  out="$dir/src/golden/layouts.json"
  mkdir -p "$(dirname "$out")"
  helper collect "$pkg" "$out" "${inputs[@]}"
  echo "wrote $out"
done
