/**
 * Xen's writable page tables for x86 PV guests of either width: a guest kernel's store to
 * a read-only mapping of one of its own L1 tables, carried out as a checked update
 * (xen/arch/x86/pv/ro-page-fault.c).
 *
 * @module
 */
import type { Domain, Machine } from "@hvkit/core";
import { Reg } from "./cpu-api.js";
import { decodeInsn } from "./decode.js";
import { D, REG_AH } from "./insn.js";
import type { PvMmVcpu } from "./pv-mm-hypercalls.js";
import { PageType, Pte, PvMmu } from "./pv-mmu.js";
import { OpMap, TABLE } from "./table.js";
import { Op } from "./ops.js";

/** What ptwr emulation reaches of a vCPU. */
export interface PtwrVcpu extends PvMmVcpu {
  /** The machine. */
  readonly machine: Machine;
  /** The owning domain. */
  readonly domain: Domain;
}

const insnBytes = new Uint8Array(16);
const insnRecord = new Int32Array(32);

/**
 * Xen's writable page tables (pv/ro-page-fault.c, ptwr_emulated_update): a guest write
 * that faults on a read-only mapping of one of its own L1 page tables is emulated as a
 * checked page-table update, decoded in the code size the guest runs. x86_emulate runs
 * the instruction and hands its store to ptwr_emulated_write/cmpxchg, so any store form
 * works; hvkit decodes the ones kernels use on PTEs: `mov` (register or immediate),
 * `xchg`, `cmpxchg`, `and`/`or` (register or immediate: Linux's clear_bit/set_bit, e.g.
 * ptep_set_wrprotect's `andb`) and `bts`/`btr` (test_and_clear_bit), with or without a
 * lock (or, on a kernel patched for one CPU, ds) prefix. The store must be naturally
 * aligned (1, 2, 4 or 8 bytes); a narrower store is widened to the whole 8-byte entry
 * with its other bytes as they are (so a PAE guest's 4-byte halves merge). Returns true
 * when emulated (rip advanced, flags as the instruction sets them); false to deliver the
 * #PF (an entry the PV MMU refuses, or an instruction hvkit does not emulate).
 */
export function emulatePtWrite(v: PtwrVcpu, cr2: bigint): boolean {
  const mmu = v.mmu;
  const mem = v.machine.memory;
  const ft = mem.frameTable;
  const l1e = mmu.l1eAddress(v.guestTable, cr2);
  if (l1e < 0) return false;
  const lo = mem.read32(l1e);
  if ((lo & (Pte.P | Pte.RW)) !== Pte.P) return false;
  const mfn = PvMmu.frameOf(lo, mem.read32(l1e + 4));
  if (
    mfn >= ft.frames ||
    ft.owner[mfn] !== v.domain.id ||
    ft.type[mfn] !== PageType.L1 ||
    ft.typeCount[mfn] === 0
  )
    return false;
  // Decode the faulting instruction.
  const cpu = v.cpu;
  let n = 0;
  for (; n < 15; n++) {
    const pa = v.translate(cpu.rip + BigInt(n), false);
    if (pa < 0) break;
    insnBytes[n] = mem.bytes[pa];
  }
  const len = decodeInsn(insnBytes, 0, n, cpu.codeSize, insnRecord, 0);
  if (len <= 0 || insnRecord[D.RM_MEM] === 0) return false;
  const row = TABLE[insnRecord[D.ROW]];
  const bytes = insnRecord[D.OSZ];
  if ((cr2 & BigInt(bytes - 1)) !== 0n) return false;
  const bits = BigInt(bytes * 8);
  const mask = (1n << bits) - 1n;
  const imm =
    row.map === OpMap.Primary
      ? row.opcode === 0x80 || row.opcode === 0x81 || row.opcode === 0x83 || row.opcode >= 0xc6
      : row.opcode === 0xba;
  const reg = insnRecord[D.REG];
  const src = imm
    ? BigInt.asUintN(Number(bits), BigInt(insnRecord[D.IMM_LO]))
    : reg >= REG_AH
      ? (cpu.getReg((reg - REG_AH) as Reg) >> 8n) & 0xffn
      : cpu.getReg(reg as Reg) & mask;
  // The whole 8-byte entry, and the operand's part of it.
  const pa = mfn * 4096 + Number(cr2 & 4095n & ~7n);
  const old = mem.read64(pa);
  const shift = (cr2 & 7n) * 8n;
  const oldPart = (old >> shift) & mask;
  let part: bigint;
  let flags = -1;
  switch (row.op) {
    case Op.MOV:
    case Op.XCHG:
      part = src;
      break;
    case Op.CMPXCHG:
      if (oldPart !== (cpu.getReg(Reg.RAX) & mask)) {
        setPart(v, Reg.RAX, bytes, oldPart);
        cpu.rflags = (cpu.rflags & ~ZF) >>> 0;
        cpu.rip += BigInt(len);
        return true;
      }
      part = src;
      break;
    case Op.AND:
    case Op.OR:
      part = row.op === Op.AND ? oldPart & src : oldPart | src;
      flags = (cpu.rflags & ~ARITH_FLAGS) | logicFlags(part, bits);
      break;
    case Op.BTS:
    case Op.BTR: {
      // A register bit offset beyond the operand would address another word: not emulated.
      if (!imm && src >= bits) return false;
      const bit = 1n << (src % bits);
      part = row.op === Op.BTS ? oldPart | bit : oldPart & ~bit;
      flags = (cpu.rflags & ~CF) | ((oldPart & bit) !== 0n ? CF : 0);
      break;
    }
    default:
      return false;
  }
  const nv = (old & ~(mask << shift)) | (part << shift);
  if (mmu.modEntry(pa, Number(nv & 0xffffffffn), Number(nv >> 32n), v.domain, false) !== 0)
    return false;
  if (row.op === Op.XCHG) setPart(v, reg, bytes, oldPart);
  if (row.op === Op.CMPXCHG) cpu.rflags = (cpu.rflags | ZF) >>> 0;
  if (flags >= 0) cpu.rflags = flags >>> 0;
  cpu.rip += BigInt(len);
  return true;
}

const CF = 0x1;
const PF = 0x4;
const ZF = 0x40;
const SF = 0x80;
/** CF, PF, AF, ZF, SF, OF. */
const ARITH_FLAGS = 0x8d5;

/** The status flags after `and`/`or` with result `r` of `bits` bits: CF = OF = AF = 0, SF, ZF, PF. */
function logicFlags(r: bigint, bits: bigint): number {
  let low = Number(r & 0xffn);
  low ^= low >> 4;
  low ^= low >> 2;
  low ^= low >> 1;
  let f = (low & 1) === 0 ? PF : 0;
  if (r === 0n) f |= ZF;
  if (((r >> (bits - 1n)) & 1n) !== 0n) f |= SF;
  return f;
}

/**
 * Writes `value` to the `bytes`-wide part of register `reg` as the CPU does: a 4-byte
 * write zero-extends, 1- and 2-byte writes keep the rest; AH..BH ({@link REG_AH}+n) are
 * bits 8–15 of rax..rbx.
 */
function setPart(v: PtwrVcpu, reg: number, bytes: number, value: bigint): void {
  const cpu = v.cpu;
  if (reg >= REG_AH) {
    const r = (reg - REG_AH) as Reg;
    cpu.setReg(r, (cpu.getReg(r) & ~0xff00n) | (value << 8n));
  } else if (bytes >= 4) cpu.setReg(reg as Reg, value);
  else {
    const mask = (1n << BigInt(bytes * 8)) - 1n;
    cpu.setReg(reg as Reg, (cpu.getReg(reg as Reg) & ~mask) | value);
  }
}
