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
import { D } from "./insn.js";
import type { PvMmVcpu } from "./pv-mm-hypercalls.js";
import { PageType, Pte, PvMmu } from "./pv-mmu.js";
import { OpMap, TABLE } from "./table.js";

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
 * checked page-table update — `mov` (register or immediate), `xchg` and `cmpxchg` of a
 * naturally aligned 4- or 8-byte entry (a 4-byte write merged into its 8-byte entry, as
 * a PAE guest's halves), decoded in the code size the guest runs. Returns true when
 * emulated (rip advanced); false
 * to deliver the #PF (an entry the PV MMU refuses, or an instruction it does not emulate).
 * cmpxchg sets ZF only.
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
  if ((bytes !== 4 && bytes !== 8) || (cr2 & BigInt(bytes - 1)) !== 0n) return false;
  const mask = bytes === 8 ? 0xffffffffffffffffn : 0xffffffffn;
  const reg = insnRecord[D.REG] as Reg;
  let src: bigint;
  let kind: "mov" | "xchg" | "cmpxchg";
  if (row.map === OpMap.Primary && row.opcode === 0x89) {
    kind = "mov";
    src = cpu.getReg(reg) & mask;
  } else if (row.map === OpMap.Primary && row.opcode === 0xc7) {
    kind = "mov";
    src = BigInt.asUintN(bytes * 8, BigInt(insnRecord[D.IMM_LO]));
  } else if (row.map === OpMap.Primary && row.opcode === 0x87) {
    kind = "xchg";
    src = cpu.getReg(reg) & mask;
  } else if (row.map === OpMap.M0F && row.opcode === 0xb1) {
    kind = "cmpxchg";
    src = cpu.getReg(reg) & mask;
  } else {
    return false;
  }
  // Merge a 4-byte write into its 8-byte entry.
  const pa = mfn * 4096 + Number(cr2 & 4095n & ~7n);
  const old = mem.read64(pa);
  const shift = bytes === 4 ? (cr2 & 4n) * 8n : 0n;
  const oldPart = (old >> shift) & mask;
  if (kind === "cmpxchg") {
    const expected = cpu.getReg(Reg.RAX) & mask;
    if (oldPart !== expected) {
      cpu.setReg(Reg.RAX, oldPart);
      cpu.rflags = (cpu.rflags & ~0x40) >>> 0;
      cpu.rip += BigInt(len);
      return true;
    }
  }
  const nv = (old & ~(mask << shift)) | (src << shift);
  if (mmu.modEntry(pa, Number(nv & 0xffffffffn), Number(nv >> 32n), v.domain, false) !== 0)
    return false;
  if (kind === "xchg") cpu.setReg(reg, oldPart);
  if (kind === "cmpxchg") cpu.rflags = (cpu.rflags | 0x40) >>> 0;
  cpu.rip += BigInt(len);
  return true;
}
