/**
 * The PAPR page-table hcalls of Xen's PowerPC port: how a guest edits its hashed page
 * table, which the hypervisor keeps (`sc 1` with r3 = the call's token, not XEN_MARK;
 * `abi/ppc.md`). Tokens, flags and return codes are PAPR's as Xen's `asm-powerpc/papr.h`
 * lists them; the behaviour follows Xen's `arch/powerpc/papr/xlate.c` and PAPR where Xen's
 * departed from it (see `docs/internals/ppc-mmu.md`).
 *
 * @module
 */
import { Msr } from "../cpu/cpu-api.js";
import { Pte0, Pte1, PTEG_ENTRIES } from "./hpt.js";
import type { PpcMmu } from "./mmu.js";

/** PAPR hcall tokens of the page-table set (r3 of `sc 1`). */
export const PaprHcall = {
  /** Remove a PTE: flags, ptex, avpn → old dword 0, dword 1. */
  H_REMOVE: 0x04,
  /** Insert a PTE: flags, ptex, dword 0, dword 1 → the slot used. */
  H_ENTER: 0x08,
  /** Read one PTE, or four with H_READ_4: flags, ptex → dwords. */
  H_READ: 0x0c,
  /** Clear a PTE's C bit: flags, ptex → old dword 1. */
  H_CLEAR_MOD: 0x10,
  /** Clear a PTE's R bit: flags, ptex → old dword 1. */
  H_CLEAR_REF: 0x14,
  /** Change a PTE's PP and N bits: flags, ptex, avpn. */
  H_PROTECT: 0x18,
} as const;

/** The last PAPR token Xen's table had room for (H_FREE_LOGICAL_LAN_BUFFER). */
export const PAPR_HCALL_END = 0x1d4;

/** PAPR hcall return codes (r3). */
export const HStatus = {
  /** Done. */
  Success: 0,
  /** Hardware error. */
  Hardware: -1,
  /** The hcall is not supported. */
  Function: -2,
  /** Called from problem state. */
  Privilege: -3,
  /** An argument is out of range for the partition or conflicts. */
  Parameter: -4,
  /** Illegal MSR value. */
  BadMode: -5,
  /** H_ENTER found no free slot in the PTEG. */
  PtegFull: -6,
  /** The PTE named is not valid or does not match the AVPN / AND condition. */
  NotFound: -7,
} as const;

/** hcall flag bits (r4), as bigints: PAPR numbers them as bits of a 64-bit register. */
export const HFlag = {
  /** H_ENTER: use exactly slot ptex, not the first free one in its PTEG (bit 24). */
  EXACT: 1n << 39n,
  /** H_READ: return the four PTEs from ptex & ~3 (bit 26). */
  READ_4: 1n << 37n,
  /** H_REMOVE, H_PROTECT: the PTE's AVPN must equal avpn's (bit 32). */
  AVPN: 1n << 31n,
  /** H_REMOVE: dword 0 AND avpn must be zero (bit 33). */
  ANDCOND: 1n << 30n,
  /** H_ENTER: invalidate the instruction cache over the page (bit 40). */
  ICACHE_INVALIDATE: 1n << 23n,
  /** H_ENTER: synchronize the instruction cache over the page (bit 41). */
  ICACHE_SYNCHRONIZE: 1n << 22n,
  /** H_ENTER: zero the page first (bit 48). */
  ZERO_PAGE: 1n << 15n,
  /** H_PROTECT: the new N bit (bit 61). */
  N: 1n << 2n,
  /** H_PROTECT: the new PP bits (bits 62:63). */
  PP: 3n,
} as const;

const PAGE = 4096;
const AVPN_MASK = ~0x7fn & 0xffffffffffffffffn;

/**
 * Performs PAPR hcall `nr` for the vCPU whose MMU is `mmu`: `args` are r4… (missing ones
 * read as 0), results go to `out[0]`… (r4…; H_READ with H_READ_4 fills eight). Returns the
 * {@link HStatus} for r3. Any argument values are safe: a bad one is an error code, never
 * an exception.
 */
export function paprHcall(mmu: PpcMmu, nr: number, args: readonly bigint[], out: bigint[]): number {
  if (mmu.cpu.msrLo & Msr.PR) return HStatus.Privilege;
  if (!Number.isInteger(nr) || nr < 0 || nr & 3 || nr > PAPR_HCALL_END) return HStatus.Parameter;
  // The page-table set is tokens 0x04 to 0x18; other valid tokens have no handler here.
  if (nr < PaprHcall.H_REMOVE || nr > PaprHcall.H_PROTECT) return HStatus.Function;
  const arg = (k: number): bigint => BigInt.asUintN(64, args[k] ?? 0n);
  const flags = arg(0);
  const hpt = mmu.hpt;
  // Every call of the set names an entry (r5): past the table is H_Parameter.
  if (arg(1) >= BigInt(hpt.ptes)) return HStatus.Parameter;
  const ptex = Number(arg(1));
  switch (nr) {
    case PaprHcall.H_ENTER:
      return hEnter(mmu, flags, ptex, arg(2), arg(3), out);
    case PaprHcall.H_READ: {
      const four = (flags & HFlag.READ_4) !== 0n;
      const first = four ? ptex & ~3 : ptex;
      for (let k = 0; k < (four ? 4 : 1); k++) {
        out[2 * k] = hpt.dword(first + k, 0);
        out[2 * k + 1] = hpt.dword(first + k, 1);
      }
      return HStatus.Success;
    }
    case PaprHcall.H_REMOVE:
    case PaprHcall.H_PROTECT: {
      const dw0 = hpt.dword(ptex, 0);
      const dw1 = hpt.dword(ptex, 1);
      const avpn = arg(2);
      if ((dw0 & BigInt(Pte0.V)) === 0n) return HStatus.NotFound;
      if (flags & HFlag.AVPN && (dw0 & AVPN_MASK) !== (avpn & AVPN_MASK)) return HStatus.NotFound;
      if (nr === PaprHcall.H_REMOVE) {
        if (flags & HFlag.ANDCOND && (dw0 & avpn) !== 0n) return HStatus.NotFound;
        out[0] = dw0;
        out[1] = dw1;
        hpt.setEntry(ptex, 0n, 0n);
      } else {
        const keep = ~BigInt(Pte1.PP | Pte1.N) & 0xffffffffffffffffn;
        hpt.setEntry(ptex, dw0, (dw1 & keep) | (flags & (HFlag.PP | HFlag.N)));
      }
      hpt.invalidate();
      return HStatus.Success;
    }
    default: {
      // H_CLEAR_MOD, H_CLEAR_REF
      const dw1 = hpt.dword(ptex, 1);
      out[0] = dw1;
      const bit = BigInt(nr === PaprHcall.H_CLEAR_MOD ? Pte1.C : Pte1.R);
      if (dw1 & bit) {
        hpt.setEntry(ptex, hpt.dword(ptex, 0), dw1 & ~bit);
        hpt.invalidate();
      }
      return HStatus.Success;
    }
  }
}

/**
 * H_ENTER: validates the entry (4 KiB page of a frame the guest owns or was granted,
 * read-only when the grant map is; memory attributes W = 0 and I = 0), clears the bits reserved to the hypervisor and the 970's absent
 * pp0/ts, and stores it in slot ptex (H_EXACT) or the first invalid slot of ptex's PTEG.
 */
function hEnter(
  mmu: PpcMmu,
  flags: bigint,
  ptex: number,
  dw0In: bigint,
  dw1In: bigint,
  out: bigint[],
): number {
  const hpt = mmu.hpt;
  // hvkit offers no large-page sizes (the device tree names none).
  if (dw0In & BigInt(Pte0.L)) return HStatus.Parameter;
  // The RPN (dword 1 bits 2:51) is a guest frame number.
  const gpfn = Number((dw1In >> 12n) & ((1n << 50n) - 1n));
  if (!mmu.frames.mayMap(gpfn)) return HStatus.Parameter;
  // Guest frames are memory: write-through and caching-inhibited are for I/O space.
  if (dw1In & BigInt(Pte1.W | Pte1.I)) return HStatus.Parameter;
  // A read-only grant map: PP 3 only (read-only for both keys; the 970 has no pp0).
  if (mmu.frames.readOnly?.(gpfn) === true && (dw1In & 3n) !== 3n) return HStatus.Parameter;
  const dw0 = dw0In & ~BigInt(Pte0.HV_RESERVED);
  const dw1 = dw1In & ~((BigInt(Pte1.RESERVED_HI >>> 0) << 32n) | BigInt(Pte1.RESERVED_LO));
  const exact = (flags & HFlag.EXACT) !== 0n;
  const first = exact ? ptex : ptex & ~(PTEG_ENTRIES - 1);
  const last = exact ? first : first + PTEG_ENTRIES - 1;
  let slot = -1;
  for (let k = first; k <= last; k++)
    if ((hpt.words[k * 4 + 1]! & (Pte0.V | Pte0.HV_RESERVED)) === 0) {
      slot = k;
      break;
    }
  if (slot < 0) return HStatus.PtegFull;
  if (flags & HFlag.ZERO_PAGE) {
    const base = mmu.frames.frameBase(gpfn);
    if (base >= 0) mmu.frames.bytes.fill(0, base, base + PAGE);
  }
  hpt.setEntry(slot, dw0, dw1);
  // A valid slot was never cached, so nothing to flush; the instruction cache is not modelled.
  out[0] = BigInt(slot);
  return HStatus.Success;
}
