/**
 * The x86_64 PV vCPU saved as a vcpu_guest_context (domctl getvcpucontext): every field
 * the save writes lands at the offset of the ABI layout, read back with the struct codec.
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  bootInitialDomain,
  createMachine,
  Errno,
  VcpuState,
  type HypercallContext,
  type Vcpu,
} from "@hvkit/core";
import {
  Reg,
  Seg,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_IN_KERNEL,
  VGCF_ONLINE,
  X86_64_DATA_MODEL,
} from "@hvkit/arch-x86";
import { X86_64PvPlugin } from "./plugin.js";

const HELLO = new URL("../../conformance/guests/x86_64/bin/hello.elf", import.meta.url);
const L = VCPU_GUEST_CONTEXT_X86.layout(X86_64_DATA_MODEL);

function setup() {
  const machine = createMachine(container.createChildContainer(), {
    arch: new X86_64PvPlugin(),
    memoryMiB: 32,
  });
  const dom0 = bootInitialDomain(machine, readFileSync(HELLO));
  const domU = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
  const target = domU.vcpus[0].arch;
  // The caller's "address space": two hypervisor frames, guest VA = machine address.
  const [first] = machine.allocXenFrames(2)!;
  const base = first * machine.memory.pageSize;
  const door = {
    machine,
    arch: { translate: (va: bigint) => (va >= BigInt(base) ? Number(va) : -1) },
  } as unknown as Vcpu;
  const ctx: HypercallContext = { machine, domain: dom0, vcpu: door };
  return { machine, target, domU, ctx, base };
}

describe("x86_64 saveGuestContext (arch_get_info_guest)", () => {
  it("writes registers, trap table, page-table bases, callbacks and segment bases", () => {
    const { machine, target, domU, ctx, base } = setup();
    const cpu = target.cpu;
    cpu.setReg(Reg.RAX, 0x1122334455667788n);
    cpu.setReg(Reg.R15, -1n);
    cpu.rip = 0xffffffff80001000n;
    cpu.fsBase = 0x7000n;
    cpu.gsBase = 0x8000n;
    target.inactiveGsBase = 0x9000n;
    cpu.sel[Seg.DS] = 0x2b;
    target.trapAddr[14] = 0xffffffff80002000n;
    target.trapCs[14] = 0xe033;
    target.trapFlags[14] = 4;
    target.guestTable = 0x123;
    target.guestTableUser = 0x456;
    target.kernelSs = 0xe02b;
    target.kernelSp = 0xffffffff80009ff8n;
    target.eventCallback = 0xffffffff80003000n;
    target.syscallCallback = 0xffffffff80004000n;
    target.gdtFrames = [0x77];
    target.gdtEntries = 16;
    domU.vcpus[0].state = VcpuState.Runnable;
    domU.setVmAssist(2, true);

    expect(target.saveGuestContext(ctx, BigInt(base))).toBe(0);
    const view = machine.memory.view;
    const get = (p: string) => L.get(view, base, p);
    expect(get("flags")).toBe(BigInt(VGCF_IN_KERNEL | VGCF_ONLINE));
    expect(get("user_regs.rax")).toBe(0x1122334455667788n);
    expect(get("user_regs.r15")).toBe(0xffffffffffffffffn);
    expect(get("user_regs.rip")).toBe(0xffffffff80001000n);
    expect(get("user_regs.ds")).toBe(0x2b);
    expect(get("user_regs.cs")).toBe(cpu.sel[Seg.CS]);
    expect(get("trap_ctxt.14.vector")).toBe(14);
    expect(get("trap_ctxt.14.cs")).toBe(0xe033);
    expect(get("trap_ctxt.14.flags")).toBe(4);
    expect(get("trap_ctxt.14.address")).toBe(0xffffffff80002000n);
    expect(get("trap_ctxt.13.address")).toBe(0n);
    expect(get("ctrlreg.3")).toBe(0x123000n);
    expect(get("ctrlreg.0")).toBe(0x80050033n);
    expect(get("ctrlreg.4")).toBe(0x660n); // the guest's view: no PGE, which the CPU has
    expect(get("ctrlreg.1")).toBe(0x456000n);
    expect(get("kernel_ss")).toBe(0xe02bn);
    expect(get("kernel_sp")).toBe(0xffffffff80009ff8n);
    expect(get("gdt_frames.0")).toBe(0x77n);
    expect(get("gdt_ents")).toBe(16n);
    expect(get("event_callback_eip")).toBe(0xffffffff80003000n);
    expect(get("syscall_callback_eip")).toBe(0xffffffff80004000n);
    expect(get("vm_assist")).toBe(4n);
    expect(get("fs_base")).toBe(0x7000n);
    expect(get("gs_base_kernel")).toBe(0x8000n);
    expect(get("gs_base_user")).toBe(0x9000n);
  });

  it("writes DR0-3, DR6 and DR7 with the emulated I/O breakpoint enables (dr7_emul)", () => {
    const { machine, target, ctx, base } = setup();
    target.cpu.setDebugReg(2, 0x7fff12345678n);
    target.cpu.setDebugReg(6, 0xffff4ff0n);
    target.cpu.setDebugReg(7, 0x20400n);
    target.dr7Emul = 2;
    expect(target.saveGuestContext(ctx, BigInt(base))).toBe(0);
    const get = (p: string) => L.get(machine.memory.view, base, p);
    expect(get("debugreg.2")).toBe(0x7fff12345678n);
    expect(get("debugreg.6")).toBe(0xffff4ff0n);
    expect(get("debugreg.7")).toBe(0x20402n);
    expect(get("debugreg.4")).toBe(0n);
  });

  it("a down vCPU is not VGCF_online; an unwritable buffer is -EFAULT", () => {
    const { machine, target, ctx, base } = setup();
    expect(target.saveGuestContext(ctx, BigInt(base))).toBe(0);
    expect(L.get(machine.memory.view, base, "flags")).toBe(BigInt(VGCF_IN_KERNEL));
    expect(target.saveGuestContext(ctx, BigInt(base - 4096))).toBe(-Errno.EFAULT);
  });
});
