/**
 * The x87 FPU, MMX and SSE state of the x86 CPU model, the rules for when an instruction
 * may use it (CR0.EM/TS/MP, CR4.OSFXSR/OSXSAVE, pending x87 exceptions), and the
 * instructions that manage it as a whole: fxsave/fxrstor, xsave/xsaveopt/xsavec/xrstor,
 * xgetbv/xsetbv, ldmxcsr/stmxcsr, fwait, emms.
 *
 * The state lives in `X86Cpu` fields (cpu.ts): the eight 80-bit x87 registers in physical
 * order as a 64-bit significand (`fpuMant`, int32 halves) and a sign/exponent word
 * (`fpuSignExp`), so a software float80 can work on them in place; FCW, FSW (without TOP),
 * TOP, the tag word in FXSAVE's abridged form (one "not empty" bit per physical register),
 * FOP, FIP/FCS and FDP/FDS; XMM0–15 as int32 lanes; MXCSR; XCR0. MMX register MMi is the
 * significand of Ri: an MMX instruction sets TOP to 0 and every tag to valid, and a write
 * to MMi sets Ri's sign/exponent word to 0xffff (SDM vol. 1, 9.5); emms empties every tag.
 *
 * For x87 arithmetic built on this state: ST(i) is physical register `(ftop + i) & 7`; an
 * x87 instruction first calls {@link x87Available}, and a waiting one also
 * {@link x87CheckPending}; an unmasked exception it detects sets its FSW bits and ES/B
 * (the next waiting instruction then raises #MF). SIMD floating-point instructions raise
 * an unmasked MXCSR exception through {@link simdFloatingPointError}.
 *
 * Memory images follow the SDM (vol. 1, 10.5 and 13.4): the 512-byte FXSAVE layout in its
 * 64-bit forms (FXSAVE64 with REX.W: 64-bit FIP/FDP; without: 32-bit offsets with FCS/FDS),
 * XMM0–15 at 160, bytes 416–511 never written; the XSAVE area is that legacy region plus
 * a 64-byte header (XSTATE_BV, XCOMP_BV) at 512. The CPU supports XCR0 = x87 | SSE.
 *
 * @module
 */
import { Vector } from "./cpu-api.js";
import type { X86Cpu } from "./cpu.js";
import { X_EXT } from "./decode-cache.js";
import { D, Pfx } from "./insn.js";
import { Op } from "./ops.js";

/** FCW after FNINIT, and the x87 control word a new Xen vCPU starts with (Xen's FCW_DEFAULT). */
export const FCW_DEFAULT = 0x037f;
/** MXCSR at reset and for a new Xen vCPU (Xen's MXCSR_DEFAULT): all exceptions masked. */
export const MXCSR_DEFAULT = 0x1f80;
/** The MXCSR bits the CPU implements (flags, DAZ, masks, RC, FZ); FXSAVE reports it at byte 28. */
export const MXCSR_MASK = 0xffff;
/** XCR0 components the CPU implements: x87 (bit 0) and SSE (bit 1). */
export const XCR0_SUPPORTED = 3;
/** Size of an FXSAVE image. */
export const FXSAVE_SIZE = 512;
/** Size of this CPU's XSAVE area (legacy region and header; no extended components). */
export const XSAVE_SIZE = 576;

/** CR0 and CR4 bits that govern the FPU and vector unit (SDM vol. 3, 2.5). */
export const FpuCr = {
  /** CR0.MP: fwait honours TS. */ MP: 0x2,
  /** CR0.EM: no x87 unit (x87 → #NM, MMX/SSE → #UD). */ EM: 0x4,
  /** CR0.TS: task switched, the first FPU/MMX/SSE instruction raises #NM. */ TS: 0x8,
  /** CR0.NE: x87 errors are reported as #MF. */ NE: 0x20,
  /** CR4.OSFXSR: the OS saves SSE state with fxsave; SSE instructions are allowed. */
  OSFXSR: 0x200,
  /** CR4.OSXMMEXCPT: unmasked SIMD floating-point exceptions are #XM (else #UD). */
  OSXMMEXCPT: 0x400,
  /** CR4.OSXSAVE: xgetbv/xsetbv and the xsave family are allowed. */
  OSXSAVE: 0x40000,
} as const;

/** x87 status word bits (SDM vol. 1, 8.1.3). */
export const Fsw = {
  /** The six exception flags IE, DE, ZE, OE, UE, PE. */ EXCEPTIONS: 0x3f,
  /** Stack fault. */ SF: 0x40,
  /** Error summary: an unmasked exception is pending. */ ES: 0x80,
  /** TOP field. */ TOP: 0x3800,
  /** FPU busy (mirrors ES). */ B: 0x8000,
} as const;

/** Parts of the FXSAVE legacy region {@link writeFxImage} and {@link readFxImage} move. */
export const FxPart = {
  /** FCW, FSW, FTW, FOP, FIP, FDP and ST0–7 (bytes 0–23, 32–159). */ X87: 1,
  /** MXCSR and MXCSR_MASK (bytes 24–31). */ MXCSR: 2,
  /** XMM0–15 (bytes 160–415). */ XMM: 4,
  /** All three. */ ALL: 7,
} as const;

// ---- state transitions ----

/** FNINIT: default control word, clear status, every register empty, pointers zero. */
export function x87Init(c: X86Cpu): void {
  c.fcw = FCW_DEFAULT;
  c.fsw = 0;
  c.ftop = 0;
  c.ftw = 0;
  c.fop = 0;
  c.fipLo = c.fipHi = c.fcs = 0;
  c.fdpLo = c.fdpHi = c.fds = 0;
}

/** The x87 component's initial configuration (XRSTOR's init): FNINIT with ST0–7 zero. */
export function x87InitState(c: X86Cpu): void {
  x87Init(c);
  c.fpuMant.fill(0);
  c.fpuSignExp.fill(0);
}

/**
 * The FPU and vector state a vCPU starts with: the x87 and SSE components in their initial
 * configuration and MXCSR 0x1f80 (Xen: `vcpu_init_fpu` and `vcpu_setup_fpu` without data).
 */
export function resetVectorState(c: X86Cpu): void {
  x87InitState(c);
  c.xmm.fill(0);
  c.mxcsr = MXCSR_DEFAULT;
}

/** Whether an unmasked x87 exception is pending (FSW flags not masked by FCW). */
export function x87ExceptionPending(c: X86Cpu): boolean {
  return (c.fsw & ~c.fcw & Fsw.EXCEPTIONS) !== 0;
}

/** The architectural FSW: the stored word with TOP, and ES and B when an exception is pending. */
export function x87StatusWord(c: X86Cpu): number {
  const es = x87ExceptionPending(c) ? Fsw.ES | Fsw.B : 0;
  return (c.fsw & ~Fsw.TOP) | (c.ftop << 11) | es;
}

/** XINUSE: bit 0 when the x87 state, bit 1 when the SSE state is not in its initial configuration. */
export function xinuse(c: X86Cpu): number {
  let u = 0;
  let regs = 0;
  for (let i = 0; i < 16; i++) regs |= c.fpuMant[i];
  for (let i = 0; i < 8; i++) regs |= c.fpuSignExp[i];
  if (
    regs !== 0 ||
    c.fcw !== FCW_DEFAULT ||
    (c.fsw | c.ftop | c.ftw | c.fop) !== 0 ||
    (c.fipLo | c.fipHi | c.fcs | c.fdpLo | c.fdpHi | c.fds) !== 0
  )
    u |= 1;
  let x = 0;
  for (let i = 0; i < 64; i++) x |= c.xmm[i];
  if (x !== 0 || c.mxcsr !== MXCSR_DEFAULT) u |= 2;
  return u;
}

// ---- when an instruction may use the unit ----

/** An x87 instruction: #NM when CR0.EM or CR0.TS is set. */
export function x87Available(c: X86Cpu): void {
  if ((c.cr0 & (FpuCr.EM | FpuCr.TS)) !== 0) c.raise(Vector.NM, -1);
}

/** A waiting x87 instruction (and fwait, MMX): #MF when an unmasked x87 exception is pending. */
export function x87CheckPending(c: X86Cpu): void {
  if (x87ExceptionPending(c)) c.raise(Vector.MF, -1);
}

/** An MMX instruction: #UD when CR0.EM is set, #NM when CR0.TS is set, #MF for a pending x87 exception. */
export function mmxAvailable(c: X86Cpu): void {
  const cr0 = c.cr0;
  if ((cr0 & FpuCr.EM) !== 0) c.raise(Vector.UD, -1);
  if ((cr0 & FpuCr.TS) !== 0) c.raise(Vector.NM, -1);
  x87CheckPending(c);
}

/**
 * The x87 → MMX transition of an MMX instruction that did not fault: TOP 0, every register
 * valid. (The instruction's write to MMi also sets Ri's exponent field to 0xffff.)
 */
export function mmxEnter(c: X86Cpu): void {
  c.ftop = 0;
  c.ftw = 0xff;
}

/** An SSE instruction: #UD when CR4.OSFXSR is clear or CR0.EM is set, #NM when CR0.TS is set. */
export function sseAvailable(c: X86Cpu): void {
  const cr0 = c.cr0;
  if ((c.cr4 & FpuCr.OSFXSR) === 0 || (cr0 & FpuCr.EM) !== 0) c.raise(Vector.UD, -1);
  if ((cr0 & FpuCr.TS) !== 0) c.raise(Vector.NM, -1);
}

/**
 * Raises the exception of an unmasked SIMD floating-point exception (the instruction has
 * set its MXCSR flags): #XM when CR4.OSXMMEXCPT is set, else #UD (SDM vol. 3, 6.15, #XM).
 */
export function simdFloatingPointError(c: X86Cpu): never {
  return c.raise((c.cr4 & FpuCr.OSXMMEXCPT) !== 0 ? Vector.XM : Vector.UD, -1);
}

// ---- FXSAVE images ----

/**
 * Writes `parts` of the current state into the FXSAVE image at `view[off ..]`: FIP and
 * FDP as 64-bit offsets when `wide` (FXSAVE64), else 32-bit offsets with FCS and FDS.
 * The reserved bytes of the parts written become 0; bytes 416–511 are not touched.
 */
export function writeFxImage(
  c: X86Cpu,
  view: DataView,
  off: number,
  parts: number,
  wide: boolean,
): void {
  if ((parts & FxPart.X87) !== 0) {
    view.setUint16(off, c.fcw, true);
    view.setUint16(off + 2, x87StatusWord(c), true);
    view.setUint8(off + 4, c.ftw);
    view.setUint8(off + 5, 0);
    view.setUint16(off + 6, c.fop & 0x7ff, true);
    view.setInt32(off + 8, c.fipLo, true);
    view.setInt32(off + 12, wide ? c.fipHi : c.fcs & 0xffff, true);
    view.setInt32(off + 16, c.fdpLo, true);
    view.setInt32(off + 20, wide ? c.fdpHi : c.fds & 0xffff, true);
    for (let i = 0; i < 8; i++) {
      const r = (c.ftop + i) & 7;
      const at = off + 32 + 16 * i;
      view.setInt32(at, c.fpuMant[2 * r], true);
      view.setInt32(at + 4, c.fpuMant[2 * r + 1], true);
      view.setUint16(at + 8, c.fpuSignExp[r], true);
      view.setUint16(at + 10, 0, true);
      view.setInt32(at + 12, 0, true);
    }
  }
  if ((parts & FxPart.MXCSR) !== 0) {
    view.setInt32(off + 24, c.mxcsr, true);
    view.setInt32(off + 28, MXCSR_MASK, true);
  }
  if ((parts & FxPart.XMM) !== 0) {
    for (let i = 0; i < 64; i++) view.setInt32(off + 160 + 4 * i, c.xmm[i], true);
  }
}

/** Whether the FXSAVE image at `view[off ..]` holds an MXCSR the CPU accepts (no reserved bit set). */
export function fxImageMxcsrValid(view: DataView, off: number): boolean {
  return (view.getUint32(off + 24, true) & ~MXCSR_MASK) === 0;
}

/**
 * Loads `parts` of the state from the FXSAVE image at `view[off ..]` (layout as
 * {@link writeFxImage}). The caller has checked the MXCSR ({@link fxImageMxcsrValid}).
 */
export function readFxImage(
  c: X86Cpu,
  view: DataView,
  off: number,
  parts: number,
  wide: boolean,
): void {
  if ((parts & FxPart.X87) !== 0) {
    c.fcw = view.getUint16(off, true);
    const fsw = view.getUint16(off + 2, true);
    c.ftop = (fsw >> 11) & 7;
    c.fsw = fsw & ~Fsw.TOP;
    c.ftw = view.getUint8(off + 4);
    c.fop = view.getUint16(off + 6, true) & 0x7ff;
    c.fipLo = view.getInt32(off + 8, true);
    c.fdpLo = view.getInt32(off + 16, true);
    if (wide) {
      c.fipHi = view.getInt32(off + 12, true);
      c.fdpHi = view.getInt32(off + 20, true);
      c.fcs = c.fds = 0;
    } else {
      c.fipHi = c.fdpHi = 0;
      c.fcs = view.getUint16(off + 12, true);
      c.fds = view.getUint16(off + 20, true);
    }
    for (let i = 0; i < 8; i++) {
      const r = (c.ftop + i) & 7;
      const at = off + 32 + 16 * i;
      c.fpuMant[2 * r] = view.getInt32(at, true);
      c.fpuMant[2 * r + 1] = view.getInt32(at + 4, true);
      c.fpuSignExp[r] = view.getUint16(at + 8, true);
    }
  }
  if ((parts & FxPart.MXCSR) !== 0) c.mxcsr = view.getUint32(off + 24, true);
  if ((parts & FxPart.XMM) !== 0) {
    for (let i = 0; i < 64; i++) c.xmm[i] = view.getInt32(off + 160 + 4 * i, true);
  }
}

// ---- the instructions ----

const TWO32 = 4294967296;
/** Scratch for an FXSAVE/XSAVE image being moved between memory and the state. */
const IMAGE = new DataView(new ArrayBuffer(XSAVE_SIZE));

/** Copies `bytes` (a multiple of 4) of guest memory at (lo, hi) into `IMAGE` (reads fault). */
function imageIn(c: X86Cpu, lo: number, hi: number, bytes: number): void {
  const img = IMAGE;
  for (let k = 0; k < bytes; k += 4) {
    const l = (lo >>> 0) + k;
    img.setInt32(k, c.rd32(l | 0, l >= TWO32 ? (hi + 1) | 0 : hi), true);
  }
}

/** Copies image bytes [from, to) (multiples of 4) to guest memory at (lo, hi); the caller has probed it. */
function imageOut(c: X86Cpu, lo: number, hi: number, from: number, to: number): void {
  const img = IMAGE;
  for (let k = from; k < to; k += 4) {
    const l = (lo >>> 0) + k;
    c.wr32(l | 0, l >= TWO32 ? (hi + 1) | 0 : hi, img.getInt32(k, true));
  }
}

/** Writes the image's `parts` to memory (the byte ranges those parts occupy). */
function partsOut(c: X86Cpu, lo: number, hi: number, parts: number): void {
  if ((parts & FxPart.X87) !== 0) {
    imageOut(c, lo, hi, 0, 24);
    imageOut(c, lo, hi, 32, 160);
  }
  if ((parts & FxPart.MXCSR) !== 0) imageOut(c, lo, hi, 24, 32);
  if ((parts & FxPart.XMM) !== 0) imageOut(c, lo, hi, 160, 416);
}

/** xsave, xsaveopt (`opt`) and xsavec (`compact`) of the components in `rfbm`. */
function xsave(c: X86Cpu, lo: number, hi: number, wide: boolean, kind: number): void {
  const rfbm = c.xcr0 & c.regLo[0] & XCR0_SUPPORTED;
  const inuse = xinuse(c);
  const img = IMAGE;
  // The header is read (XSAVE keeps the XSTATE_BV bits outside RFBM) before anything is written.
  const h = (lo >>> 0) + 512;
  const old = kind === XSAVEC ? 0 : c.rd32(h | 0, h >= TWO32 ? (hi + 1) | 0 : hi);
  c.probeWrite(lo, hi, XSAVE_SIZE);
  // xsaveopt and xsavec leave components in their initial configuration unwritten (the
  // init optimization); xsaveopt, like xsave, still stores MXCSR.
  const save = kind === XSAVE ? rfbm : rfbm & inuse;
  let parts: number = (save & 1) !== 0 ? FxPart.X87 : 0;
  if ((save & 2) !== 0) parts |= FxPart.MXCSR | FxPart.XMM;
  if (kind === XSAVEOPT && (rfbm & 2) !== 0) parts |= FxPart.MXCSR;
  writeFxImage(c, img, 0, parts, wide);
  partsOut(c, lo, hi, parts);
  if (kind === XSAVEC) {
    img.setInt32(512, rfbm & inuse, true);
    img.setInt32(516, 0, true);
    img.setInt32(520, rfbm, true);
    img.setInt32(524, 0x80000000 | 0, true);
    imageOut(c, lo, hi, 512, 528);
  } else {
    img.setInt32(512, (old & ~rfbm) | (inuse & rfbm), true);
    imageOut(c, lo, hi, 512, 516);
  }
}

/** xrstor: the standard or the compacted form, by XCOMP_BV bit 63. */
function xrstor(c: X86Cpu, lo: number, hi: number, wide: boolean): void {
  imageIn(c, lo, hi, XSAVE_SIZE);
  const img = IMAGE;
  const bvLo = img.getInt32(512, true);
  const bvHi = img.getInt32(516, true);
  const compLo = img.getInt32(520, true);
  const compHi = img.getInt32(524, true);
  const compacted = compHi < 0;
  if (!compacted) {
    // Standard form: XSTATE_BV within XCR0, XCOMP_BV and the next 8 bytes zero.
    if ((bvLo & ~c.xcr0) !== 0 || bvHi !== 0) c.gp0();
    if ((compLo | compHi | img.getInt32(528, true) | img.getInt32(532, true)) !== 0) c.gp0();
  } else {
    // Compacted form: XCOMP_BV within XCR0, XSTATE_BV within XCOMP_BV, bytes 16–63 zero.
    if ((compLo & ~c.xcr0) !== 0 || (compHi & 0x7fffffff) !== 0) c.gp0();
    if ((bvLo & ~compLo) !== 0 || bvHi !== 0) c.gp0();
    for (let k = 528; k < 576; k += 4) if (img.getInt32(k, true) !== 0) c.gp0();
  }
  const rfbm = c.xcr0 & c.regLo[0] & XCR0_SUPPORTED;
  const loadMxcsr = (rfbm & 2) !== 0 && (!compacted || (bvLo & 2) !== 0);
  if (loadMxcsr && !fxImageMxcsrValid(img, 0)) c.gp0();
  if ((rfbm & 1) !== 0) {
    if ((bvLo & 1) !== 0) readFxImage(c, img, 0, FxPart.X87, wide);
    else x87InitState(c);
  }
  if ((rfbm & 2) !== 0) {
    if ((bvLo & 2) !== 0) readFxImage(c, img, 0, FxPart.XMM, wide);
    else c.xmm.fill(0);
    if (loadMxcsr) readFxImage(c, img, 0, FxPart.MXCSR, wide);
    else if (compacted) c.mxcsr = MXCSR_DEFAULT;
  }
}

const XSAVE = 0;
const XSAVEOPT = 1;
const XSAVEC = 2;

/**
 * Executes FWAIT, EMMS, XCR and FXSTATE (the 0F AE group and xsavec) for the decoded
 * record at `rec[b ..]` with memory operand (`lo`, `hi`). Faults raise through `c.raise`.
 */
export function fpuStateOp(
  c: X86Cpu,
  op: number,
  rec: Int32Array,
  b: number,
  lo: number,
  hi: number,
): void {
  const R = c.regLo;
  switch (op) {
    case Op.FWAIT:
      if ((c.cr0 & (FpuCr.MP | FpuCr.TS)) === (FpuCr.MP | FpuCr.TS)) c.raise(Vector.NM, -1);
      x87CheckPending(c);
      return;
    case Op.EMMS: {
      const cr0 = c.cr0;
      if ((cr0 & FpuCr.EM) !== 0) c.raise(Vector.UD, -1);
      if ((cr0 & FpuCr.TS) !== 0) c.raise(Vector.NM, -1);
      x87CheckPending(c);
      c.ftw = 0;
      return;
    }
    case Op.XCR:
      if ((c.cr4 & FpuCr.OSXSAVE) === 0) c.raise(Vector.UD, -1);
      if (rec[b + X_EXT] === 0) {
        // xgetbv: XCR0 only (no XGETBV1).
        if (R[1] !== 0) c.gp0();
        R[0] = c.xcr0;
        c.regHi[0] = 0;
        R[2] = 0;
        c.regHi[2] = 0;
      } else {
        // xsetbv: CPL 0, XCR0 only, x87 always set, nothing the CPU lacks.
        if (c.cpl !== 0 || R[1] !== 0) c.gp0();
        const v = R[0];
        if (R[2] !== 0 || (v & ~XCR0_SUPPORTED) !== 0 || (v & 1) === 0) c.gp0();
        c.xcr0 = v;
      }
      return;
    default:
      break;
  }
  // FXSTATE: ext = ModRM /digit, + 8 for the 0F C7 group, + 16 with a 66 prefix.
  const ext = rec[b + X_EXT];
  const wide = (rec[b + D.PFX] & Pfx.REXW) !== 0;
  const cr0 = c.cr0;
  if ((ext & 16) !== 0 || ext === 7) {
    // clflush, clflushopt, clwb: no cache to write back; the access is checked as a read.
    c.rd8(lo, hi);
    return;
  }
  switch (ext & 15) {
    case 0: // fxsave
    case 1: // fxrstor
      if ((cr0 & (FpuCr.EM | FpuCr.TS)) !== 0) c.raise(Vector.NM, -1);
      if ((lo & 15) !== 0) c.gp0();
      if (ext === 0) {
        c.probeWrite(lo, hi, FXSAVE_SIZE);
        writeFxImage(c, IMAGE, 0, FxPart.ALL, wide);
        imageOut(c, lo, hi, 0, 416);
      } else {
        imageIn(c, lo, hi, FXSAVE_SIZE);
        if (!fxImageMxcsrValid(IMAGE, 0)) c.gp0();
        readFxImage(c, IMAGE, 0, FxPart.ALL, wide);
      }
      return;
    case 2: {
      // ldmxcsr
      sseAvailable(c);
      const v = c.rd32(lo, hi);
      if ((v & ~MXCSR_MASK) !== 0) c.gp0();
      c.mxcsr = v;
      return;
    }
    case 3: // stmxcsr
      sseAvailable(c);
      c.wr32(lo, hi, c.mxcsr);
      return;
    default: {
      // xsave (4), xrstor (5), xsaveopt (6), xsavec (8 + 4)
      if ((c.cr4 & FpuCr.OSXSAVE) === 0) c.raise(Vector.UD, -1);
      if ((cr0 & FpuCr.TS) !== 0) c.raise(Vector.NM, -1);
      if ((lo & 63) !== 0) c.gp0();
      if (ext === 5) xrstor(c, lo, hi, wide);
      else xsave(c, lo, hi, wide, ext === 4 ? XSAVE : ext === 6 ? XSAVEOPT : XSAVEC);
    }
  }
}
