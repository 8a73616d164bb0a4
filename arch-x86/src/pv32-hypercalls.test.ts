/**
 * The x86 (PV32) plugin's compat hypercall rows through the machine's dispatcher: 8-byte
 * trap_info with code selectors given RPL 1, set_callbacks and callback_op's 12-byte
 * struct and unregister rules, stack_switch, update_va_mapping's pte as a register pair,
 * mmuext_op's 12-byte struct, and compat XENMEM_machphys_mapping.
 */
import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  bootInitialDomain,
  buildElf,
  CALLBACK_REGISTER,
  createMachine,
  Errno,
  Hypercall,
  MemoryOp,
  MmuextCmd,
  RecordingConsoleSink,
  XenElfNote,
} from "@hvkit/core";
import { X86_32_DATA_MODEL } from "./data-model.js";
import { MACH2PHYS_COMPAT_VIRT_END, MACH2PHYS_COMPAT_VIRT_START, Pte } from "./pv-mmu.js";
import { X86PvPlugin } from "./pv32-plugin.js";

function boot() {
  const image = buildElf({
    elfClass: 32,
    machine: 3,
    entry: 0x100000,
    segments: [{ vaddr: 0x100000, data: new Uint8Array(0x3000).fill(0xf4), align: 4096 }],
    xenNotes: [
      { type: XenElfNote.XEN_VERSION, value: "xen-3.0" },
      { type: XenElfNote.LOADER, value: "generic" },
      { type: XenElfNote.PAE_MODE, value: "yes" },
    ],
  });
  const plugin = new X86PvPlugin();
  const machine = createMachine(container.createChildContainer(), {
    arch: plugin,
    memoryMiB: 32,
    console: new RecordingConsoleSink(),
  });
  const domain = bootInitialDomain(machine, image);
  const vcpu = domain.vcpus[0];
  const v = vcpu.arch;
  const scratch = Number(domain.arch.layout!.vStack);
  const call = (nr: number, ...a: number[]): number => {
    const args = vcpu.hypercallArgs;
    for (let i = 0; i < 6; i++) args.set(i, (a[i] ?? 0) >>> 0, 0);
    return Number(machine.dispatchHypercall(vcpu, nr, args));
  };
  const pa = (va: number): number => v.translate(BigInt(va), true);
  const put32 = (va: number, x: number): void => machine.memory.view.setUint32(pa(va), x, true);
  const get32 = (va: number): number => machine.memory.view.getUint32(pa(va), true);
  return { machine, domain, v, scratch, call, put32, get32 };
}

describe("x86 (PV32) compat hypercalls", () => {
  it("set_trap_table reads 8-byte entries until address 0 and gives code selectors RPL 1", () => {
    const { v, scratch, call, put32 } = boot();
    put32(scratch, 14 | (0 << 8) | (0xe018 << 16)); // #PF, DPL 0, cs RPL 0
    put32(scratch + 4, 0x101000);
    put32(scratch + 8, 3 | (3 << 8) | (0xe019 << 16)); // #BP, DPL 3
    put32(scratch + 12, 0x101100);
    put32(scratch + 16, 0);
    put32(scratch + 20, 0);
    expect(call(Hypercall.set_trap_table, scratch)).toBe(0);
    expect([v.trapAddr[14], v.trapCs[14], v.trapFlags[14]]).toEqual([0x101000, 0xe019, 0]);
    expect([v.trapAddr[3], v.trapFlags[3]]).toEqual([0x101100, 3]);
    expect(call(Hypercall.set_trap_table, 0xc0000000)).toBe(-Errno.EFAULT);
    expect(call(Hypercall.set_trap_table, 0)).toBe(0);
    expect(v.trapAddr[14]).toBe(0);
  });

  it("set_callbacks and callback_op (12-byte callback_register) set cs:eip; unregister as compat Xen", () => {
    const { v, scratch, call, put32 } = boot();
    expect(call(Hypercall.set_callbacks, 0xe018, 0x102000, 0xe019, 0x102100)).toBe(0);
    expect([v.eventCs, v.eventEip, v.failsafeCs, v.failsafeEip]).toEqual([
      0xe019, 0x102000, 0xe019, 0x102100,
    ]);
    const cb = CALLBACK_REGISTER.layout(X86_32_DATA_MODEL);
    expect(cb.size).toBe(12);
    put32(scratch, 0); // type event, flags 0
    put32(scratch + cb.offsetOf("address.cs"), 0xe019);
    put32(scratch + cb.offsetOf("address.eip"), 0x103000);
    expect(call(Hypercall.callback_op, 0, scratch)).toBe(0);
    expect(v.eventEip).toBe(0x103000);
    put32(scratch, 9); // unknown type
    expect(call(Hypercall.callback_op, 0, scratch)).toBe(-Errno.ENOSYS);
    put32(scratch, 0); // unregister event
    expect(call(Hypercall.callback_op, 1, scratch)).toBe(-Errno.EINVAL);
    put32(scratch, 4); // unregister nmi
    expect(call(Hypercall.callback_op, 1, scratch)).toBe(0);
    expect(call(Hypercall.callback_op, 7, scratch)).toBe(-Errno.EINVAL);
  });

  it("stack_switch stores ss (RPL 1 at least) and esp for bounces from ring 3", () => {
    const { v, call } = boot();
    expect(call(Hypercall.stack_switch, 0xe020, 0x120000)).toBe(0);
    expect([v.kernelSs, v.kernelSp]).toEqual([0xe021, 0x120000]);
  });

  it("update_va_mapping takes the pte as (low, high) and maps the frame; a va ≥ 4 GiB is not an argument", () => {
    const { machine, domain, v, scratch, call } = boot();
    const frame = domain.p2m[0x100]; // an image page
    const lo = ((frame << 12) | Pte.P | Pte.A) >>> 0;
    expect(call(Hypercall.update_va_mapping, scratch, lo, 0, 2)).toBe(0);
    expect(v.translate(BigInt(scratch), false)).toBe(frame * 4096);
    // NX (bit 63) arrives in the high word; the L1 entry holds it.
    expect(call(Hypercall.update_va_mapping, scratch, lo, 0x80000000, 2)).toBe(0);
    const l1e = v.mmu.l1eAddress(v.guestTable, BigInt(scratch));
    expect(machine.memory.view.getUint32(l1e + 4, true) >>> 31).toBe(1);
    expect(call(Hypercall.update_va_mapping, 0xc0000000, lo, 0, 2)).toBe(-Errno.EINVAL);
  });

  it("mmuext_op reads 12-byte ops: two flushes then an unknown command stop at the third", () => {
    const { scratch, call, put32, get32 } = boot();
    for (const [i, cmd] of [MmuextCmd.tlb_flush_local, MmuextCmd.invlpg_local, 99].entries()) {
      put32(scratch + 12 * i, cmd);
      put32(scratch + 12 * i + 4, 0x100000);
      put32(scratch + 12 * i + 8, 0);
    }
    expect(call(Hypercall.mmuext_op, scratch, 3, scratch + 64, 0x7ff0)).toBe(-Errno.ENOSYS);
    expect(get32(scratch + 64)).toBe(2);
  });

  it("XENMEM_machphys_mapping gives the compat M2P's bounds and entry count", () => {
    const { scratch, call, get32 } = boot();
    expect(call(Hypercall.memory_op, MemoryOp.machphys_mapping, scratch)).toBe(0);
    expect(get32(scratch)).toBe(MACH2PHYS_COMPAT_VIRT_START);
    expect(get32(scratch + 4)).toBe(MACH2PHYS_COMPAT_VIRT_END);
    expect(get32(scratch + 8)).toBe(
      ((MACH2PHYS_COMPAT_VIRT_END - MACH2PHYS_COMPAT_VIRT_START) >>> 2) - 1,
    );
  });
});
