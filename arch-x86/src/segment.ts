/**
 * Segmentation in long mode: the descriptor tables the CPU reads (GDT as machine frames,
 * LDT at a linear address), segment-register loads with the hardware's checks, far
 * transfers (ljmp, lcall, lret) through code-segment descriptors and 64-bit call gates,
 * returns to an outer privilege level (lret, iret: the stack segment checked and loaded,
 * data segments the new level may not use made null), and lar/lsl/verr/verw. Sources:
 * Intel SDM vol. 2 (MOV, POP, LDS/LES/LFS/LGS/LSS, JMP, CALL, RET, IRET, LAR, LSL,
 * VERR/VERW operation sections) and vol. 3 ch. 3 and 5.
 *
 * Error codes: a fault naming a selector carries `selector & 0xfffc` (index and TI, RPL
 * clear); a null selector where one is required gives #GP(0).
 *
 * Until a hypervisor installs tables ({@link DescriptorTables.enabled}), segment loads
 * only store the selector (a bare CPU in unit tests has no GDT).
 *
 * @module
 */
import { Seg, Vector } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { Access } from "./paging.js";

/** Bits of a descriptor's high word. */
export const Desc = {
  /** Accessed (code/data types). */ A: 0x100,
  /** Code/data (S = 1) rather than system. */ S: 0x1000,
  /** Present. */ P: 0x8000,
  /** 64-bit code segment (L). */ L: 0x200000,
  /** Default operand size 32 / big stack (D/B). */ DB: 0x400000,
  /** Limit in 4 KiB units. */ G: 0x800000,
} as const;

/** System descriptor type of a 64-bit call gate (also the 32-bit one outside long mode). */
export const CALL_GATE = 0xc;

/** The descriptor tables a CPU reads segment descriptors from. */
export class DescriptorTables {
  /**
   * Set by the hypervisor once it has installed tables: segment loads then read and check
   * descriptors; before, they only store the selector.
   */
  enabled = false;
  /**
   * Machine frame of each 4 KiB page of the GDT (16 pages, 8,192 descriptors); −1 reads
   * as zeros (Xen maps a zero page where the guest gave no frame).
   */
  readonly gdtFrames = new Int32Array(16).fill(-1);
  /** Descriptors the GDT's limit admits (GDTR.limit + 1) / 8. */
  gdtEntries = 8192;
  /**
   * The GDT page (0–15) whose descriptors are {@link reserved} instead of a machine frame:
   * the hypervisor's own entries (Xen's FIRST_RESERVED_GDT_PAGE, 14); −1 for none.
   */
  reservedPage = -1;
  /** The reserved page's 512 descriptors as (low, high) word pairs; not writable by loads. */
  readonly reserved = new Int32Array(1024);
  /** LDT linear base, low half. */
  ldtBaseLo = 0;
  /** LDT linear base, high half. */
  ldtBaseHi = 0;
  /** Descriptors the LDT's limit admits; 0 for no LDT (every TI = 1 selector faults). */
  ldtEntries = 0;
  /** Low word of the last descriptor read. */
  lo = 0;
  /** High word of the last descriptor read. */
  hi = 0;
  /** Machine address of the last descriptor read (for the accessed bit). */
  pa = 0;
  /** Far transfer result: target offset, low half. */
  targetLo = 0;
  /** Far transfer result: target offset, high half. */
  targetHi = 0;
  /** Far transfer result: the code selector to load (RPL = CPL). */
  targetCs = 0;
  /** Far transfer result: its code size. */
  targetSize: 64 | 32 | 16 = 64;
  /** Far transfer result: it went through a call gate (a far call then pushes 64-bit values). */
  gate = false;
  /** Far transfer result: the target code segment's limit (bytes − 1), checked outside 64-bit mode. */
  targetLimit = -1;
}

/** The base address a code/data descriptor holds (32 bits, unsigned). */
export function descriptorBase(lo: number, hi: number): number {
  return ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
}

/** The limit a code/data descriptor holds, in bytes − 1 (scaled by G). */
export function descriptorLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & Desc.G) !== 0 ? (raw * 4096 + 4095) >>> 0 : raw;
}

/** Code size of a code descriptor: 64 (L), 32 (D) or 16. */
export function codeSizeOf(hi: number): 64 | 32 | 16 {
  return (hi & Desc.L) !== 0 ? 64 : (hi & Desc.DB) !== 0 ? 32 : 16;
}

/** Reads 4 bytes of a descriptor table at a linear address with supervisor rights. */
function readSystem(c: X86Cpu, lo: number, hi: number): number {
  let pa = c.paging.walk(lo, hi, Access.Read, false);
  if (pa < 0) pa = c.addr(lo, hi, Access.Read);
  return c.view.getInt32(pa, true);
}

/**
 * Reads the descriptor selector `sel` names into `tables.lo`/`tables.hi`. An LDT entry
 * whose page is not mapped raises #PF, or with `mayFault` false (a hypervisor reading
 * outside an instruction) reads as beyond the limit.
 * @returns false when the index is beyond the table's limit.
 */
export function readDescriptor(c: X86Cpu, sel: number, mayFault = true): boolean {
  const t = c.tables;
  const idx = sel >>> 3;
  if ((sel & 4) !== 0) {
    if (idx >= t.ldtEntries) return false;
    const s = (t.ldtBaseLo >>> 0) + idx * 8;
    const lo = s | 0;
    const hi = s >= 4294967296 ? (t.ldtBaseHi + 1) | 0 : t.ldtBaseHi;
    if (!mayFault && c.paging.walk(lo, hi, Access.Read, false) < 0) return false;
    t.lo = readSystem(c, lo, hi);
    t.hi = readSystem(c, (lo + 4) | 0, hi);
    t.pa = c.paging.walk(lo, hi, Access.Read, false);
    return true;
  }
  if (idx >= t.gdtEntries) return false;
  if (idx >>> 9 === t.reservedPage) {
    t.lo = t.reserved[(idx & 511) * 2];
    t.hi = t.reserved[(idx & 511) * 2 + 1];
    t.pa = -1;
    return true;
  }
  const f = t.gdtFrames[idx >>> 9];
  if (f < 0) {
    t.lo = 0;
    t.hi = 0;
    t.pa = -1;
    return true;
  }
  const pa = f * 4096 + (idx & 511) * 8;
  t.lo = c.view.getInt32(pa, true);
  t.hi = c.view.getInt32(pa + 4, true);
  t.pa = pa;
  return true;
}

/** Sets the accessed bit of the descriptor just read, as the processor does on a load. */
function setAccessed(c: X86Cpu): void {
  const t = c.tables;
  if ((t.hi & Desc.A) !== 0 || t.pa < 0) return;
  t.hi |= Desc.A;
  c.view.setInt32(t.pa + 4, t.hi, true);
}

/**
 * Loads data or stack segment register `seg` (ES, SS, DS, FS, GS) with `sel`, as `mov`,
 * `pop`, lds/les/lfs/lgs/lss do: #GP(0) for a null SS (64-bit code at CPL < 3 may load
 * one with RPL = CPL), #GP(sel) for an index beyond the limit, a system or execute-only
 * segment, or privilege that does not allow it (SS: a writable data segment with
 * RPL = DPL = CPL), then #SS(sel) (SS) or #NP(sel) for a segment not present. Sets the
 * accessed bit, the base (FS/GS: the base MSRs' low 32 bits, high cleared) and for SS the
 * stack width. A null selector in DS/ES/FS/GS clears the base (as Intel processors do)
 * and leaves the segment unusable for 32-bit code (#GP(0) on any access through it).
 */
export function loadSegment(c: X86Cpu, seg: number, sel: number): void {
  const t = c.tables;
  sel &= 0xffff;
  if (!t.enabled) {
    if (seg === Seg.SS && (sel & 0xfffc) === 0) c.gp0();
    c.sel[seg] = sel;
    return;
  }
  const cpl = c.cpl;
  if ((sel & 0xfffc) === 0) {
    if (seg === Seg.SS && (c.codeSize !== 64 || cpl === 3 || (sel & 3) !== cpl)) c.gp0();
    loadNull(c, seg, sel);
    return;
  }
  const ec = sel & 0xfffc;
  if (!readDescriptor(c, sel)) c.raise(Vector.GP, ec);
  const hi = t.hi;
  const dpl = (hi >>> 13) & 3;
  const rpl = sel & 3;
  const type = (hi >>> 8) & 0x1f;
  if (seg === Seg.SS) {
    if (rpl !== cpl || (type & 0x1a) !== 0x12 || dpl !== cpl) c.raise(Vector.GP, ec);
    if ((hi & Desc.P) === 0) c.raise(Vector.SS, ec);
  } else {
    if ((type & 0x10) === 0 || (type & 0x0a) === 0x08) c.raise(Vector.GP, ec);
    if ((type & 0x0c) !== 0x0c && (rpl > dpl || cpl > dpl)) c.raise(Vector.GP, ec);
    if ((hi & Desc.P) === 0) c.raise(Vector.NP, ec);
  }
  setAccessed(c);
  c.sel[seg] = sel;
  cacheDescriptor(c, seg, t.lo, hi);
  if (seg === Seg.SS) {
    c.ssBig = (hi & Desc.DB) !== 0;
    if (c.codeSize !== 64) c.stackSize = c.ssBig ? 4 : 2;
  }
}

/**
 * A null selector in `seg`: base 0 and, for DS/ES/FS/GS, unusable outside 64-bit mode (any
 * access through it is #GP(0)), kept as an expand-down segment whose limit excludes every
 * offset.
 */
function loadNull(c: X86Cpu, seg: number, sel: number): void {
  c.sel[seg] = sel & 0xffff;
  c.segAttr[seg] = 0;
  setBase(c, seg, 0);
  setLimit(c, seg, 0xffffffff, seg !== Seg.SS);
}

/** The hidden part of `seg` (base, limit, expand-down, attributes) from a code/data descriptor. */
function cacheDescriptor(c: X86Cpu, seg: number, lo: number, hi: number): void {
  c.segAttr[seg] = hi;
  setBase(c, seg, descriptorBase(lo, hi));
  setLimit(c, seg, descriptorLimit(lo, hi), ((hi >>> 8) & 0x1c) === 0x14);
}

/**
 * Loads the hidden part of CS or SS (`seg`) from the descriptor `sel` names without the
 * checks of an instruction's load, as after a hypervisor's own checked return to its
 * guest: base, limit and attributes; flat (base 0, 4 GiB) when the tables are off, the
 * selector is null or names no code or data segment. Never faults.
 */
export function cacheSegment(c: X86Cpu, seg: number, sel: number): void {
  const t = c.tables;
  if (t.enabled && (sel & 0xfffc) !== 0 && readDescriptor(c, sel, false) && (t.hi & Desc.S) !== 0) {
    cacheDescriptor(c, seg, t.lo, t.hi);
    return;
  }
  cacheFlat(c, seg);
}

/** A flat hidden part for `seg` (base 0, 4 GiB, expand-up), as sysret loads for CS and SS. */
export function cacheFlat(c: X86Cpu, seg: number): void {
  c.segAttr[seg] = 0;
  setBase(c, seg, 0);
  setLimit(c, seg, 0xffffffff, false);
}

/**
 * After a return to an outer privilege level (the new CPL already set): each of ES, DS, FS
 * and GS whose descriptor is data or non-conforming code with a DPL below the CPL becomes
 * null (Intel SDM vol. 2, RET and IRET operation, "RETURN-TO-OUTER-PRIVILEGE-LEVEL"; AMD
 * APM vol. 3, RET (Far) and IRET), so the outer level cannot use the inner level's segments.
 */
export function invalidateDataSegments(c: X86Cpu): void {
  const cpl = c.cpl;
  for (let seg = 0; seg < 6; seg++) {
    if (seg === Seg.CS || seg === Seg.SS) continue;
    const hi = c.segAttr[seg];
    if (hi === 0 || (hi & 0xc00) === 0xc00) continue; // null, or conforming code
    if (((hi >>> 13) & 3) < cpl) loadNull(c, seg, 0);
  }
}

/**
 * Checks the stack selector `ss` a far return (lret, iret) to the outer level `rpl` pops,
 * for a code segment of `size`: #GP(0) for null (allowed for a 64-bit target below ring 3),
 * #GP(ss) beyond the limit, with RPL or DPL not `rpl`, or not a writable data segment,
 * #SS(ss) not present (Intel SDM vol. 2 RET and IRET operation). Loads nothing.
 */
export function checkReturnStack(c: X86Cpu, ss: number, rpl: number, size: 64 | 32 | 16): void {
  ss &= 0xffff;
  if ((ss & 0xfffc) === 0) {
    if (size !== 64 || rpl === 3) c.gp0();
    return;
  }
  if (!c.tables.enabled) return;
  const ec = ss & 0xfffc;
  if (!readDescriptor(c, ss)) c.raise(Vector.GP, ec);
  const hi = c.tables.hi;
  if ((ss & 3) !== rpl || ((hi >>> 8) & 0x1a) !== 0x12 || ((hi >>> 13) & 3) !== rpl)
    c.raise(Vector.GP, ec);
  if ((hi & Desc.P) === 0) c.raise(Vector.SS, ec);
}

/**
 * Code size of the code segment `sel` names, for a return to an outer privilege level or
 * a hypervisor loading CS itself; `fallback` when tables are not installed or the
 * descriptor is not code.
 */
export function codeSizeOfSelector(c: X86Cpu, sel: number, fallback: 64 | 32 | 16): 64 | 32 | 16 {
  if (!c.tables.enabled || (sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return fallback;
  const hi = c.tables.hi;
  return (hi & 0x1800) === 0x1800 ? codeSizeOf(hi) : fallback;
}

/** The B bit of the stack segment `sel` names (true when tables are not installed or it is null). */
export function stackBigOf(c: X86Cpu, sel: number): boolean {
  if (!c.tables.enabled || (sel & 0xfffc) === 0 || !readDescriptor(c, sel)) return true;
  return (c.tables.hi & Desc.DB) !== 0;
}

function setLimit(c: X86Cpu, seg: number, limit: number, expandDown: boolean): void {
  const bit = 1 << seg;
  c.segLimit[seg] = limit | 0;
  c.segExpandDown = expandDown ? c.segExpandDown | bit : c.segExpandDown & ~bit;
  c.segCheck = expandDown || limit >>> 0 !== 0xffffffff ? c.segCheck | bit : c.segCheck & ~bit;
}

/**
 * The limit check of an access of `size` bytes at offset `off` through segment `seg`
 * outside 64-bit mode (only called for segments in `segCheck`): an expand-up segment
 * holds offsets 0 to its limit, an expand-down one those above it. Outside them: #SS(0)
 * through SS, else #GP(0).
 */
export function checkSegmentLimit(c: X86Cpu, seg: number, off: number, size: number): void {
  const lim = c.segLimit[seg] >>> 0;
  const first = off >>> 0;
  const last = (off + size - 1) >>> 0;
  const bad = (c.segExpandDown & (1 << seg)) === 0 ? last > lim || last < first : first <= lim;
  if (bad) {
    if (seg === Seg.SS) c.raise(Vector.SS, 0);
    c.gp0();
  }
}

function setBase(c: X86Cpu, seg: number, base: number): void {
  if (seg === Seg.FS) {
    c.fsLo = base | 0;
    c.fsHi = 0;
  } else if (seg === Seg.GS) {
    c.gsLo = base | 0;
    c.gsHi = 0;
  } else c.setSegmentBase(seg, base);
}

/**
 * Checks a far jmp/call target `sel` at the current privilege level and leaves the result
 * in `tables.target*`. A code segment: conforming with DPL ≤ CPL, or non-conforming with
 * RPL ≤ CPL and DPL = CPL; not both L and D; present (#NP(sel)). A 64-bit call gate
 * (16 bytes, upper half of type 0): DPL ≥ CPL and ≥ RPL, present (#NP(gate)); its target a
 * present 64-bit code segment with DPL = CPL (jmp or call) or, conforming, DPL ≤ CPL. A
 * call gate to a more privileged level (a stack switch through the TSS) raises
 * #GP(target): no TSS is modelled. Other system descriptors: #GP(sel).
 * @param offLo - target offset from the instruction (ignored for a gate), low half.
 * @param offHi - high half.
 */
export function farTarget(c: X86Cpu, sel: number, offLo: number, offHi: number): void {
  const t = c.tables;
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) c.gp0();
  const ec = sel & 0xfffc;
  t.gate = false;
  if (!t.enabled) {
    t.targetCs = sel;
    t.targetSize = c.codeSize;
    t.targetLimit = -1;
    t.targetLo = offLo;
    t.targetHi = offHi;
    return;
  }
  const cpl = c.cpl;
  if (!readDescriptor(c, sel)) c.raise(Vector.GP, ec);
  let lo = t.lo;
  let hi = t.hi;
  let dpl = (hi >>> 13) & 3;
  if ((hi & Desc.S) === 0) {
    if (((hi >>> 8) & 0xf) !== CALL_GATE) c.raise(Vector.GP, ec);
    if (dpl < cpl || dpl < (sel & 3)) c.raise(Vector.GP, ec);
    if ((hi & Desc.P) === 0) c.raise(Vector.NP, ec);
    const glo = lo;
    const ghi = hi;
    // The upper half of a 64-bit gate: bits 8–12 of its high word must be 0.
    if (!readDescriptor(c, (sel + 8) & 0xffff)) c.raise(Vector.GP, ec);
    if ((t.hi & 0x1f00) !== 0) c.raise(Vector.GP, ec);
    const offHigh = t.lo;
    const tsel = glo >>> 16;
    if ((tsel & 0xfffc) === 0) c.gp0();
    const tec = tsel & 0xfffc;
    if (!readDescriptor(c, tsel)) c.raise(Vector.GP, tec);
    lo = t.lo;
    hi = t.hi;
    dpl = (hi >>> 13) & 3;
    if ((hi & 0x1800) !== 0x1800) c.raise(Vector.GP, tec);
    if ((hi & Desc.L) === 0 || (hi & Desc.DB) !== 0) c.raise(Vector.GP, tec);
    const conforming = (hi & 0x400) !== 0;
    if (conforming ? dpl > cpl : dpl !== cpl) c.raise(Vector.GP, tec);
    if ((hi & Desc.P) === 0) c.raise(Vector.NP, tec);
    setAccessed(c);
    t.gate = true;
    t.targetCs = (tsel & 0xfffc) | cpl;
    t.targetSize = 64;
    t.targetLimit = -1;
    t.targetLo = (glo & 0xffff) | (ghi & 0xffff0000);
    t.targetHi = offHigh;
    return;
  }
  checkCode(c, sel, hi, cpl, false);
  setAccessed(c);
  t.targetCs = (sel & 0xfffc) | cpl;
  t.targetSize = codeSizeOf(hi);
  t.targetLimit = descriptorLimit(lo, hi) | 0;
  t.targetLo = offLo;
  t.targetHi = offHi;
}

/** Code-segment checks of a far jmp/call (`ret` false) or a far return (`ret` true: DPL against the RPL). */
function checkCode(c: X86Cpu, sel: number, hi: number, cpl: number, ret: boolean): void {
  const ec = sel & 0xfffc;
  const dpl = (hi >>> 13) & 3;
  const rpl = sel & 3;
  if ((hi & 0x1800) !== 0x1800) c.raise(Vector.GP, ec);
  const conforming = (hi & 0x400) !== 0;
  if (ret) {
    if (conforming ? dpl > rpl : dpl !== rpl) c.raise(Vector.GP, ec);
  } else if (conforming ? dpl > cpl : rpl > cpl || dpl !== cpl) c.raise(Vector.GP, ec);
  if ((hi & Desc.L) !== 0 && (hi & Desc.DB) !== 0) c.raise(Vector.GP, ec);
  if ((hi & Desc.P) === 0) c.raise(Vector.NP, ec);
}

/**
 * Checks the code selector a far return (`lret`, or `iret` in protected/compatibility
 * mode) pops, and leaves the target in `tables.targetCs`/`targetSize`/`targetLimit`:
 * #GP(0) for null, #GP(sel) beyond the limit, not code, RPL < CPL, or DPL not matching
 * the RPL; #NP(sel) when not present. RPL > CPL is a return to an outer level: the caller
 * then pops and checks the stack ({@link checkReturnStack}).
 */
export function farReturnTarget(c: X86Cpu, sel: number): void {
  const t = c.tables;
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) c.gp0();
  const ec = sel & 0xfffc;
  const cpl = c.cpl;
  if (!t.enabled) {
    if ((sel & 3) < cpl) c.raise(Vector.GP, ec);
    t.targetCs = sel;
    t.targetSize = c.codeSize;
    t.targetLimit = -1;
    return;
  }
  if (!readDescriptor(c, sel)) c.raise(Vector.GP, ec);
  if ((sel & 3) < cpl) c.raise(Vector.GP, ec);
  checkCode(c, sel, t.hi, cpl, true);
  setAccessed(c);
  t.targetCs = sel;
  t.targetSize = codeSizeOf(t.hi);
  t.targetLimit = descriptorLimit(t.lo, t.hi) | 0;
}

/** System descriptor types lar accepts in long mode (LDT, available/busy 64-bit TSS, call gate). */
const LAR_SYSTEM = (1 << 2) | (1 << 9) | (1 << 11) | (1 << 12);
/** System descriptor types lsl accepts in long mode (LDT, available/busy 64-bit TSS). */
const LSL_SYSTEM = (1 << 2) | (1 << 9) | (1 << 11);

/**
 * lar, lsl, verr, verw (`kind` 0–3) of selector `sel`: whether the descriptor is visible
 * at the current CPL and RPL and of an accepted type (ZF), and for lar/lsl the value: the
 * access rights (high word & 0x00f0ff00) or the byte-granular limit. Never faults on the
 * selector (a null or out-of-limit one just clears ZF); reading the table may #PF.
 * @returns the value, or −1 with ZF to be cleared.
 */
export function probeSelector(c: X86Cpu, kind: number, sel: number): number {
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0 || !c.tables.enabled || !readDescriptor(c, sel)) return -1;
  const { lo, hi } = c.tables;
  const dpl = (hi >>> 13) & 3;
  const type = (hi >>> 8) & 0xf;
  const cpl = c.cpl;
  const rpl = sel & 3;
  if ((hi & Desc.S) === 0) {
    if (kind >= 2) return -1;
    if (((kind === 0 ? LAR_SYSTEM : LSL_SYSTEM) & (1 << type)) === 0) return -1;
    if (dpl < cpl || dpl < rpl) return -1;
  } else {
    const conformingCode = (type & 0xc) === 0xc;
    if (!conformingCode && (dpl < cpl || dpl < rpl)) return -1;
    if (kind === 2 && (type & 0xa) === 0x8) return -1; // verr: execute-only code
    if (kind === 3 && (type & 0xa) !== 0x2) return -1; // verw: writable data only
  }
  if (kind === 0) return (hi & 0x00f0ff00) >>> 0;
  if (kind === 1) return descriptorLimit(lo, hi);
  return 0;
}
