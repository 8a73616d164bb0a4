/**
 * Call gates of 32-bit PV guests, emulated as Xen 4.19's pv_emulate_gate_op
 * (xen/arch/x86/pv/emul-gate-op.c). check_descriptor keeps a guest's call gate with DPL 0
 * and the DPL the guest asked for in the target selector's RPL, so the processor refuses
 * every far call or jmp through it with #GP(gate selector); Xen's #GP handler
 * (do_general_protection, traps.c: a 32-bit vCPU, an error code that is not an IDT one)
 * then reads the gate, decodes the instruction and makes the transfer with the checks and
 * error codes of the hardware's (Intel SDM vol. 2, CALL and JMP through a call gate): a
 * call to an inner ring switches to the ring-1 stack stack_switch gave, copying the gate's
 * parameter count of words. Xen emulates only what its own checks name; whatever else it
 * refuses reaches the guest as #GP(gate selector).
 *
 * @module
 */
import { Reg, Seg, Vector } from "./cpu-api.js";
import { Dr6 } from "./debug.js";
import { decodeInsn, newInsnRecord } from "./decode.js";
import { D } from "./insn.js";
import { FarOp, Op } from "./ops.js";
import { MACH2PHYS_COMPAT_VIRT_START } from "./pv-mmu.js";
import type { Pv32Vcpu } from "./pv32-vcpu.js";
import { TABLE } from "./table.js";

/** An exception the emulation raises instead of the transfer. */
export interface GateOpFault {
  /** The vector (#GP, #NP, #SS, #TS or #PF). */
  vector: number;
  /** Its error code. */
  errorCode: number;
  /** For #PF, the linear address. */
  cr2: number;
}

/** Descriptor attribute bits as Xen names them (asm/desc.h `_SEGMENT_*`). */
const Ar = {
  /** Conforming code / expand-down data (_SEGMENT_EC). */ EC: 0x400,
  /** Writable data / readable code (_SEGMENT_WR). */ WR: 0x200,
  /** Code (_SEGMENT_CODE). */ CODE: 0x800,
  /** Code or data rather than system (_SEGMENT_S). */ S: 0x1000,
  /** Present (_SEGMENT_P). */ P: 0x8000,
  /** Default size 32 (_SEGMENT_DB). */ DB: 0x400000,
  /** Limit in pages (_SEGMENT_G). */ G: 0x800000,
} as const;

/** GUEST_KERNEL_RPL of a 32-bit PV domain: its kernel runs in ring 1. */
const KERNEL_RPL = 1;

/** What {@link readSegment} found: pv_emul_read_descriptor's base, limit and attributes. */
const seg = { base: 0, limit: 0, ar: 0 };

/**
 * pv_emul_read_descriptor for a 32-bit vCPU: a null selector reads as a zero descriptor;
 * no GDT limit is applied (Xen's own selectors are readable); L is ignored.
 */
function readSegment(v: Pv32Vcpu, sel: number): boolean {
  let a = 0;
  let b = 0;
  if (sel >= 4) {
    if (!v.cpu.readDescriptor(sel)) return false;
    a = v.cpu.tables.lo;
    b = v.cpu.tables.hi & ~0x200000;
  }
  seg.ar = b & 0x00f0ff00;
  seg.base = ((a >>> 16) | ((b & 0xff) << 16) | (b & 0xff000000)) >>> 0;
  const raw = (a & 0xffff) | (b & 0xf0000);
  seg.limit = (b & Ar.G) !== 0 ? (raw * 4096 + 4095) >>> 0 : raw;
  return true;
}

/** check_stack_limit: `decr` bytes below `esp` fit the stack segment (32-bit wrap-around). */
function stackFits(ar: number, limit: number, esp: number, decr: number): boolean {
  const low = (esp - decr) >>> 0;
  const top = (esp - 1) >>> 0;
  return low < top && ((ar & Ar.EC) === 0 ? top <= limit : low > limit);
}

/** compat_access_ok: [va, va + size) lies below HYPERVISOR_COMPAT_VIRT_START. */
function compatAccessOk(va: number, size: number): boolean {
  return va >= 0 && va < MACH2PHYS_COMPAT_VIRT_START && va + size <= MACH2PHYS_COMPAT_VIRT_START;
}

/** Reads `n` bytes at `va` into `out` as Xen does (supervisor rights); the failing va, or −1. */
function readGuest(v: Pv32Vcpu, va: number, out: Uint8Array, n: number): number {
  const mem = v.machine.memory.bytes;
  for (let i = 0; i < n; i++) {
    const p = v.translate(BigInt((va + i) >>> 0), false);
    if (p < 0) return (va + i) >>> 0;
    out[i] = mem[p];
  }
  return -1;
}

/** Writes a 32-bit word at `va`; the first va not written, or −1. */
function writeGuest(v: Pv32Vcpu, va: number, value: number): number {
  const mem = v.machine.memory.bytes;
  for (let i = 0; i < 4; i++) {
    const p = v.translate(BigInt((va + i) >>> 0), true);
    if (p < 0) return (va + i) >>> 0;
    mem[p] = (value >>> (8 * i)) & 0xff;
    v.cpu.invalidateCode(p, 1);
  }
  return -1;
}

const fault = (vector: number, errorCode: number, cr2 = 0): GateOpFault => ({
  vector,
  errorCode,
  cr2,
});

const insn = newInsnRecord();
const bytes = new Uint8Array(16);

/**
 * pv_emulate_gate_op for the #GP(`gateSel`) the guest just took (eip still at the far
 * call or jmp): performs the transfer and returns null, or returns the exception to
 * deliver: instead of the transfer, or after it a single-step #DB (EFLAGS.TF, as
 * pv_emul_instruction_done raises it).
 */
export function emulateGateOp(v: Pv32Vcpu, gateSel: number): GateOpFault | null {
  const cpu = v.cpu;
  const cpl = cpu.cpl;
  const gp = fault(Vector.GP, gateSel);
  // read_gate_descriptor: within the guest's GDT/LDT entries, DPL 0 as check_descriptor
  // left it (the guest's DPL in the target selector's RPL), a 32-bit call gate.
  if (gateSel < 4 || gateSel >>> 3 >= ((gateSel & 4) !== 0 ? v.ldtEntries : v.gdtEntries))
    return gp;
  if (!cpu.readDescriptor(gateSel)) return gp;
  const ga = cpu.tables.lo;
  const gb = cpu.tables.hi;
  let sel = (ga >>> 16) & 0xfffc;
  const off = ((ga & 0xffff) | (gb & 0xffff0000)) >>> 0;
  let ar = gb & 0xffff;
  if ((ar & 0x6000) !== 0) return gp;
  ar |= (ga >>> 3) & 0x6000;
  if ((ar & 0x1f00) !== 0x0400 && (ar & 0x1f00) !== 0x0c00) return gp;
  const dpl = (ar >>> 13) & 3;
  if (dpl < cpl || (ar & 0xf00) !== 0xc00) return gp;
  if ((ar & Ar.P) === 0) return fault(Vector.NP, gateSel);
  let nparm = ar & 0x1f;

  // The instruction, fetched through CS (its base and limit) and decoded.
  if (!readSegment(v, cpu.sel[Seg.CS])) return gp;
  if ((seg.ar & (Ar.S | Ar.P | Ar.CODE)) !== (Ar.S | Ar.P | Ar.CODE)) return gp;
  const csBase = seg.base;
  const csLimit = seg.limit;
  const eip = Number(cpu.rip & 0xffffffffn);
  let k = 0;
  let fetchFault = -1;
  for (; k < 15; k++) {
    if ((eip + k) >>> 0 > csLimit) break;
    fetchFault = readGuest(v, (csBase + eip + k) >>> 0, bytes.subarray(k), 1);
    if (fetchFault >= 0) break;
  }
  const len = decodeInsn(bytes, 0, k, (seg.ar & Ar.DB) !== 0 ? 32 : 16, insn, 0);
  if (len <= 0) return len === 0 && fetchFault >= 0 ? fault(Vector.PF, 0, fetchFault) : gp;
  let jump = -1;
  let opndSel = 0;
  if (insn[D.OP] === (Op.FAR as number)) {
    const kind = TABLE[insn[D.ROW]].aux as FarOp;
    if (kind === FarOp.JMP_PTR || kind === FarOp.CALL_PTR) {
      jump = kind === FarOp.JMP_PTR ? 1 : 0;
      opndSel = insn[D.IMM2] & 0xffff;
    } else if ((kind === FarOp.JMP_MEM || kind === FarOp.CALL_MEM) && insn[D.RM_MEM] === 1) {
      jump = kind === FarOp.JMP_MEM ? 1 : 0;
      // The selector after the offset, read through the operand's segment (read_mem).
      const r = readOperandSelector(v, gateSel, csBase, csLimit);
      if (r !== null) return r;
      opndSel = bytes[0] | (bytes[1] << 8);
    }
  }
  if (jump < 0 || (opndSel & ~3) !== gateSel || dpl < (opndSel & 3)) return gp;

  // The target code segment.
  if (!readSegment(v, sel)) return fault(Vector.GP, sel);
  const tdpl = (seg.ar >>> 13) & 3;
  if (
    (seg.ar & (Ar.S | Ar.CODE)) !== (Ar.S | Ar.CODE) ||
    (jump === 0 || (seg.ar & Ar.EC) !== 0 ? tdpl > cpl : tdpl !== cpl)
  )
    return fault(Vector.GP, sel);
  if ((seg.ar & Ar.P) === 0) return fault(Vector.NP, sel);
  if (off > seg.limit) return fault(Vector.GP, 0);

  const oldCs = cpu.sel[Seg.CS];
  const oldSs = cpu.sel[Seg.SS];
  const oldEsp = cpu.getReg32(Reg.RSP);
  let ss = oldSs;
  let esp = oldEsp;
  if (jump === 0) {
    let stk: number;
    if (tdpl < cpl) {
      // To the kernel's ring: its stack from stack_switch, with the caller's ss:esp and
      // the gate's parameter words copied from the caller's stack.
      sel |= tdpl;
      if ((sel & 3) !== KERNEL_RPL) return gp;
      esp = v.kernelSp >>> 0;
      ss = v.kernelSs;
      if (
        (ss & 3) !== (sel & 3) ||
        !readSegment(v, ss) ||
        ((seg.ar >>> 13) & 3) !== (sel & 3) ||
        (seg.ar & (Ar.S | Ar.CODE | Ar.WR)) !== (Ar.S | Ar.WR)
      )
        return fault(Vector.TS, ss & ~3);
      if ((seg.ar & Ar.P) === 0 || !stackFits(seg.ar, seg.limit, esp, (4 + nparm) * 4))
        return fault(Vector.SS, ss & ~3);
      stk = (seg.base + esp) >>> 0;
      if (!compatAccessOk(stk - (4 + nparm) * 4, 16 + nparm * 4)) return gp;
      for (const w of [oldSs, oldEsp]) {
        stk -= 4;
        esp = (esp - 4) >>> 0;
        const f = writeGuest(v, stk, w);
        if (f >= 0) return fault(Vector.PF, 2, f);
      }
      if (nparm !== 0) {
        // Xen checks the caller's stack with the new esp (already 8 bytes down).
        if (
          !readSegment(v, oldSs) ||
          ((seg.ar >>> 13) & 3) !== cpl ||
          (seg.ar & (Ar.S | Ar.CODE | Ar.WR)) !== (Ar.S | Ar.WR) ||
          !stackFits(seg.ar, seg.limit, (esp + nparm * 4) >>> 0, nparm * 4)
        )
          return gp;
        let ustk = (seg.base + oldEsp + nparm * 4) >>> 0;
        if (!compatAccessOk(ustk - nparm * 4, nparm * 4)) return gp;
        do {
          ustk -= 4;
          const f = readGuest(v, ustk, bytes, 4);
          if (f >= 0) return fault(Vector.PF, 0, f);
          stk -= 4;
          esp = (esp - 4) >>> 0;
          const w = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
          const g = writeGuest(v, stk, w);
          if (g >= 0) return fault(Vector.PF, 2, g);
        } while (--nparm !== 0);
      }
    } else {
      sel |= cpl;
      if (!readSegment(v, ss) || ((seg.ar >>> 13) & 3) !== (sel & 3)) return gp;
      if (!stackFits(seg.ar, seg.limit, esp, 8)) return fault(Vector.SS, 0);
      stk = (seg.base + esp) >>> 0;
      if (!compatAccessOk(stk - 8, 8)) return gp;
    }
    for (const w of [oldCs, (eip + len) >>> 0]) {
      stk -= 4;
      esp = (esp - 4) >>> 0;
      const f = writeGuest(v, stk, w);
      if (f >= 0) return fault(Vector.PF, 2, f);
    }
  } else sel |= cpl;

  // pv_emul_instruction_done, then Xen's return to the guest loads CS and SS.
  cpu.setReg(Reg.RSP, BigInt(esp));
  cpu.rip = BigInt(off);
  cpu.rflags = cpu.rflags & ~0x10000;
  cpu.returnToOuterLevel(sel, ss);
  v.kernelMode = cpu.cpl !== 3;
  if ((cpu.rflags & 0x100) === 0) return null;
  cpu.setDebugReg(6, cpu.getDebugReg(6) | BigInt(Dr6.BS | Dr6.DEFAULT));
  return fault(Vector.DB, -1);
}

/**
 * For `lcall`/`ljmp` m16:16/32 (decoded in {@link insn}): reads the selector word after
 * the offset through the operand's segment into `bytes[0..1]` as Xen's read_mem (CS
 * through the base and limit it fetched with; a null or unusable data segment, or one
 * whose limit excludes the word, is #GP(gate)); null when read, else the exception.
 */
function readOperandSelector(
  v: Pv32Vcpu,
  gateSel: number,
  csBase: number,
  csLimit: number,
): GateOpFault | null {
  const cpu = v.cpu;
  const gp = fault(Vector.GP, gateSel);
  const a16 = insn[D.ASZ] === 2;
  const base = insn[D.BASE];
  const index = insn[D.INDEX];
  let ea = insn[D.DISP];
  if (base >= 0) ea += cpu.getReg32(base as Reg);
  if (index >= 0) ea += (cpu.getReg32(index as Reg) << insn[D.SCALE]) >>> 0;
  ea = a16 ? ea & 0xffff : ea >>> 0;
  const s = insn[D.SEG] >= 0 ? insn[D.SEG] : base === 4 || base === 5 ? Seg.SS : Seg.DS;
  const offset = (ea + insn[D.OSZ]) >>> 0;
  let base0 = csBase;
  let limit = csLimit;
  if (s !== Seg.CS) {
    const sel = cpu.sel[s];
    if (sel === 0 || !readSegment(v, sel)) return gp;
    const ar = seg.ar;
    if ((ar & (Ar.S | Ar.P)) !== (Ar.S | Ar.P) || (ar & (Ar.CODE | Ar.WR)) === Ar.CODE) return gp;
    base0 = seg.base;
    limit = seg.limit;
  }
  if (limit < 1 || offset > limit - 1) return gp;
  const f = readGuest(v, (base0 + offset) >>> 0, bytes, 2);
  return f >= 0 ? fault(Vector.PF, 0, f) : null;
}
