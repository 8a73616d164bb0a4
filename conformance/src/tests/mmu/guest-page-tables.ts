/**
 * A guest kernel's view of its own x86-style page tables (feature `pv-mmu-radix`), for
 * the mmu tests: 4 levels, or PAE's 3 with feature `pv-mmu-pae` (an L3 whose 4 entries
 * cover 32-bit addresses, slot 3 Xen's); entries in x86's 8-byte format (frame in bits
 * 12–51, present, writable, accessed, dirty), tables read through a read-only mapping at
 * a window page, and the PV MMU calls (update_va_mapping, mmu_update, mmuext_op) on
 * DOMID_SELF. A guest whose long is 32 bits passes update_va_mapping's 64-bit entry as
 * two arguments, low word first (compat `do_update_va_mapping(va, lo, hi, flags)`,
 * xen/arch/x86/x86_64/compat/mm.c).
 *
 * @module
 */
import {
  DomId,
  Hypercall,
  MMU_UPDATE,
  MMUEXT_OP,
  MmuextCmd,
  MmuUpdateCmd,
  UVMF_INVLPG,
} from "@hvkit/core";
import { AgentError, type Agent } from "../../agent.js";

/** Present. */
export const PTE_P = 0x1n;
/** Writable. */
export const PTE_RW = 0x2n;
/** Accessed. */
export const PTE_A = 0x20n;
/** Dirty. */
export const PTE_D = 0x40n;
/** The frame bits of an entry. */
export const PTE_FRAME = 0x000f_ffff_ffff_f000n;
/** 4 KiB pages. */
export const PAGE_SHIFT = 12n;
/** Bytes per entry (512 a table). */
export const ENTRY_BYTES = 8;
/** The first L4 slot Xen keeps for itself (ROOT_PAGETABLE_FIRST_XEN_SLOT). */
const FIRST_XEN_L4_SLOT = 256;
/** The PAE L3 slot Xen keeps (its L2 holds Xen's mappings; mod_l3_entry refuses it for PV32). */
const XEN_PAE_L3_SLOT = 3;
/** A value no done count takes, to see what mmu_update wrote where. */
export const POISON = 0xdead_beefn;
const INDEX_BITS = 9n;
const ENTRIES = 512;

/** A page-table entry's place: its table's frame and its index there. */
export interface EntrySlot {
  /** The table's machine frame. */
  readonly frame: bigint;
  /** The entry's index in it. */
  readonly index: number;
}

/** The agent's view of its own page tables and the PV MMU calls. */
export class GuestPageTables {
  /** The window page tables are mapped at, read-only, to be read. */
  private readonly view: bigint;
  private readonly frameOf: (va: bigint) => bigint;
  private readonly root: bigint;
  /** Levels of the tables: 4, or 3 for PAE (feature `pv-mmu-pae`). */
  readonly levels: 3 | 4;
  /** The first slot of the root table that Xen keeps for itself. */
  readonly firstXenSlot: number;
  /** update_va_mapping takes the entry as two 32-bit arguments (a 32-bit guest). */
  private readonly pteAsPair: boolean;

  /**
   * @param agent - the booted agent (its spec must give `frameOf` and `pageTableRoot`).
   * @param viewPage - the window page tables are mapped at to be read.
   */
  constructor(
    private readonly agent: Agent,
    viewPage: number,
  ) {
    const spec = agent.spec;
    if (spec.frameOf === undefined || spec.pageTableRoot === undefined) {
      throw new AgentError(`the ${agent.arch.name} GuestAgent has no frameOf or pageTableRoot`);
    }
    this.levels = agent.arch.features.includes("pv-mmu-pae") ? 3 : 4;
    this.firstXenSlot = this.levels === 3 ? XEN_PAE_L3_SLOT : FIRST_XEN_L4_SLOT;
    this.pteAsPair = agent.model.long === 4;
    this.view = this.window(viewPage);
    this.frameOf = (va) => agent.frameOf(va);
    this.root = spec.pageTableRoot(agent);
  }

  /** Window page `n`. */
  window(n: number): bigint {
    return this.agent.boot.window + BigInt(n * this.agent.pageSize);
  }

  /** The frame backing `va`. */
  frame(va: bigint): bigint {
    return this.frameOf(va);
  }

  /** The root table's frame. */
  get rootFrame(): bigint {
    return this.root;
  }

  /** A present entry naming `frame`, writable or not. */
  pte(frame: bigint, writable: boolean): bigint {
    return (frame << PAGE_SHIFT) | PTE_P | PTE_A | (writable ? PTE_RW | PTE_D : 0n);
  }

  /** update_va_mapping(`va`, `pte`, UVMF_INVLPG); a 32-bit guest's `pte` as (low, high). */
  updateVaMapping(va: bigint, pte: bigint): bigint {
    const a = this.agent;
    if (!this.pteAsPair) return a.hypercall(Hypercall.update_va_mapping, va, pte, UVMF_INVLPG);
    return a.hypercall(
      Hypercall.update_va_mapping,
      va,
      pte & 0xffff_ffffn,
      pte >> 32n,
      UVMF_INVLPG,
    );
  }

  /**
   * The slot of the level-`level` entry (1 to {@link levels}) on the way to `va`, walked
   * from the root.
   */
  slot(va: bigint, level: number): EntrySlot {
    let frame = this.root;
    for (let l = this.levels; l > level; l--) {
      frame = (this.entry({ frame, index: index(va, l) }) & PTE_FRAME) >> PAGE_SHIFT;
    }
    return { frame, index: index(va, level) };
  }

  /** The L1 entry slot that maps `va`, walked from the root. */
  l1Slot(va: bigint): EntrySlot {
    return this.slot(va, 1);
  }

  /** The entry at `slot`, read through a read-only mapping of its table. */
  entry(slot: EntrySlot): bigint {
    this.mapView(slot.frame);
    return this.agent.readUint(this.view + BigInt(slot.index * ENTRY_BYTES), 8);
  }

  /**
   * The first index from `from` up (below `end`) whose entry in table `frame` is not
   * present; throws when there is none.
   */
  freeIndex(frame: bigint, from = 0, end = ENTRIES): number {
    this.mapView(frame);
    for (let i = from; i < end; i++) {
      if (!(this.agent.readUint(this.view + BigInt(i * ENTRY_BYTES), 8) & PTE_P)) return i;
    }
    throw new AgentError(`page table ${frame} has no free entry in ${from}..${end - 1}`);
  }

  /** The machine address of the entry at `slot` with `cmd` in its low bits (mmu_update's ptr). */
  machineAddress(slot: EntrySlot, cmd: number = MmuUpdateCmd.normal_pt_update): bigint {
    return (slot.frame << PAGE_SHIFT) + BigInt(slot.index * ENTRY_BYTES) + BigInt(cmd);
  }

  /**
   * mmu_update of one request on DOMID_SELF: its result, the count done (`pdone`, an
   * `unsigned int`) and the 4 bytes after it, both poisoned before the call.
   */
  mmuUpdate(ptr: bigint, val: bigint): { rc: bigint; done: bigint; after: bigint } {
    const a = this.agent;
    const req = a.placeStruct(MMU_UPDATE, { ptr, val });
    const done = a.alloc(8);
    a.writeUint(done, 4, POISON);
    a.writeUint(done + 4n, 4, POISON);
    const rc = a.hypercall(Hypercall.mmu_update, a.handle(req), 1, a.handle(done), DomId.SELF);
    return { rc, done: a.readUint(done, 4), after: a.readUint(done + 4n, 4) };
  }

  /** mmuext_op of one `cmd` with `arg1` on DOMID_SELF. */
  mmuext(cmd: MmuextCmd, arg1: bigint): bigint {
    const a = this.agent;
    const path = cmd === MmuextCmd.invlpg_local ? "arg1.linear_addr" : "arg1.mfn";
    const op = a.placeStruct(MMUEXT_OP, { cmd, [path]: arg1 });
    return a.hypercall(Hypercall.mmuext_op, a.handle(op), 1, 0, DomId.SELF);
  }

  private mapView(frame: bigint): void {
    const rc = this.updateVaMapping(this.view, this.pte(frame, false));
    if (rc !== 0n) throw new AgentError(`mapping page-table frame ${frame} returned ${rc}`);
  }
}

/** The index of `va` in its level-`level` table (a PAE L3's 0–3 for a 32-bit `va`). */
export function index(va: bigint, level: number): number {
  return Number((va >> (PAGE_SHIFT + INDEX_BITS * BigInt(level - 1))) & 511n);
}

/**
 * The virtual address whose indices from the root level down to 1 are `indices`: with
 * four, canonical (bits 63–48 copy bit 47); with three (PAE), a 32-bit address.
 */
export function vaOf(indices: readonly number[]): bigint {
  let va = 0n;
  for (const i of indices) va = (va << INDEX_BITS) | BigInt(i);
  va <<= PAGE_SHIFT;
  return indices.length === 4 ? BigInt.asIntN(48, va) & 0xffff_ffff_ffff_ffffn : va;
}
