/**
 * VCPUOP_initialise on x86_64 PV (arch_set_info_guest): a context loads registers, page
 * tables, trap table and callbacks into the second vCPU of a freshly built domain; each
 * kind of bad context is −EINVAL (or −EFAULT) and changes nothing.
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  bootInitialDomain,
  createMachine,
  Errno,
  Hypercall,
  RecordingConsoleSink,
  StructBuffer,
  VcpuOp,
  VcpuState,
} from "@hvkit/core";
import {
  Reg,
  Seg,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_IN_KERNEL,
  X86_64_DATA_MODEL,
} from "@hvkit/arch-x86";
import { X86_64PvPlugin } from "./plugin.js";

const HELLO = new URL("../../conformance/guests/x86_64/bin/hello.elf", import.meta.url);
const layout = VCPU_GUEST_CONTEXT_X86.layout(X86_64_DATA_MODEL);
const RIP = 0xffffffff80001234n;
const SP = 0xffffffff80200000n;

function setup() {
  const machine = createMachine(container.createChildContainer(), {
    arch: new X86_64PvPlugin(),
    memoryMiB: 32,
    console: new RecordingConsoleSink(),
  });
  const domain = bootInitialDomain(machine, readFileSync(HELLO), { vcpus: 2 });
  const v0 = domain.vcpus[0].arch;
  const v1 = domain.vcpus[1].arch;
  const ctxVa = domain.arch.layout!.vStack + 4096n;
  const buf = new StructBuffer(layout.size);
  const set = (path: string, value: number | bigint) => layout.set(buf.view, 0, path, value);
  // A good context: kernel mode on vCPU 0's page tables.
  set("flags", VGCF_IN_KERNEL);
  set("user_regs.rip", RIP);
  set("user_regs.rsp", SP);
  set("user_regs.rbx", 0x1122334455667788n);
  set("user_regs.cs", 0xe030); // RPL 0: moved to ring 3
  set("user_regs.ss", 0xe02b);
  set("user_regs.rflags", 0x3202); // IOPL 3 | IF
  set("kernel_ss", 0xe02b);
  set("kernel_sp", SP);
  set("ctrlreg.3", BigInt(v0.guestTable) << 12n);
  set("event_callback_eip", RIP + 0x100n);
  set("syscall_callback_eip", RIP + 0x200n);
  set("trap_ctxt.14.vector", 14);
  set("trap_ctxt.14.cs", 0xe033);
  set("trap_ctxt.14.address", RIP + 0x300n);
  const initialise = (): number => {
    for (let i = 0; i < layout.size; i++) {
      machine.memory.bytes[v0.translate(ctxVa + BigInt(i), true)] = buf.bytes[i];
    }
    const args = domain.vcpus[0].hypercallArgs;
    args.set(0, VcpuOp.initialise, 0);
    args.set(1, 1, 0);
    args.set(2, Number(ctxVa & 0xffffffffn), Number(ctxVa >> 32n));
    return Number(machine.dispatchHypercall(domain.vcpus[0], Hypercall.vcpu_op, args));
  };
  return { machine, domain, v0, v1, set, initialise };
}

describe("VCPUOP_initialise (x86_64 PV)", () => {
  it("loads registers, page tables, trap table and callbacks; the vCPU stays down; then −EEXIST", () => {
    const { machine, domain, v0, v1, initialise } = setup();
    const ft = machine.memory.frameTable;
    const l4Types = ft.typeCount[v0.guestTable];
    expect(initialise()).toBe(0);
    expect(domain.vcpus[1].state).toBe(VcpuState.Down);
    expect(v1.cpu.rip).toBe(RIP);
    expect(v1.cpu.getReg(Reg.RSP)).toBe(SP);
    expect(v1.cpu.getReg(Reg.RBX)).toBe(0x1122334455667788n);
    expect(v1.cpu.sel[Seg.CS]).toBe(0xe033);
    expect(v1.cpu.rflags & 0x3000).toBe(0); // IOPL virtualised
    expect(v1.cpu.rflags & 0x200).toBe(0x200);
    expect(v1.guestTable).toBe(v0.guestTable);
    expect(ft.typeCount[v0.guestTable]).toBe(l4Types + 1); // new_baseptr's reference
    expect(v1.kernelMode).toBe(true);
    expect(v1.kernelSp).toBe(SP);
    expect(v1.eventCallback).toBe(RIP + 0x100n);
    expect(v1.syscallCallback).toBe(RIP + 0x200n);
    expect(v1.trapAddr[14]).toBe(RIP + 0x300n);
    expect(initialise()).toBe(-Errno.EEXIST);
  });

  it("loads CR0.TS and CR4 through pv_fixup_guest_cr4 (the rest of CR0 and foreign CR4 bits dropped)", () => {
    const { v1, set, initialise } = setup();
    set("ctrlreg.0", 0x8n);
    set("ctrlreg.4", 0x8a8n); // UMIP | PGE | PAE | DE
    expect(initialise()).toBe(0);
    expect(v1.cr0Ts).toBe(true);
    expect(v1.cr4).toBe(0x668);
    expect(v1.cpu.cr4).toBe(0x6e0);
  });

  it("loads the debug registers through set_debugreg (DR6/DR7 fixed bits applied)", () => {
    const { v1, set, initialise } = setup();
    set("debugreg.1", 0x7fff00001000n);
    set("debugreg.6", 0x1000n);
    set("debugreg.7", 0x802n);
    expect(initialise()).toBe(0);
    expect(v1.cpu.getDebugReg(1)).toBe(0x7fff00001000n);
    expect(v1.cpu.getDebugReg(6)).toBe(0xffff0ff0n);
    expect(v1.cpu.getDebugReg(7)).toBe(0x402n);
  });

  it.each<[string, (set: (p: string, v: number | bigint) => void) => void]>([
    ["DR7 wider than 32 bits", (set) => set("debugreg.7", 1n << 32n)],
    ["a breakpoint in the hypervisor's range", (set) => set("debugreg.0", 0xffff800000000000n)],
    ["a non-canonical rip", (set) => set("user_regs.rip", 0x0000800000000000n)],
    ["a non-canonical kernel_sp", (set) => set("kernel_sp", 0x8000000000000000n)],
    ["a non-canonical trap handler", (set) => set("trap_ctxt.3.address", 1n << 60n)],
    ["a non-canonical callback", (set) => set("failsafe_callback_eip", 1n << 50n)],
    ["an unaligned LDT", (set) => (set("ldt_base", 0x1008n), set("ldt_ents", 1))],
    ["more than 8192 LDT entries", (set) => set("ldt_ents", 8193)],
    ["more GDT entries than 16 frames", (set) => set("gdt_ents", 16 * 512 + 1)],
    ["user mode without a user page table", (set) => set("flags", 0)],
    ["CR3 naming a frame past memory", (set) => set("ctrlreg.3", 1n << 40n)],
  ])("−EINVAL for %s, and the vCPU is untouched", (_what, spoil) => {
    const { machine, domain, v0, v1, set, initialise } = setup();
    const ft = machine.memory.frameTable;
    const l4Types = ft.typeCount[v0.guestTable];
    spoil(set);
    expect(initialise()).toBe(-Errno.EINVAL);
    expect(v1.guestTable).toBe(-1);
    expect(v1.cpu.rip).not.toBe(RIP);
    expect(ft.typeCount[v0.guestTable]).toBe(l4Types);
    // Not initialised: up still fails, and a good context is accepted afterwards.
    const args = domain.vcpus[0].hypercallArgs;
    args.set(0, VcpuOp.up, 0);
    args.set(1, 1, 0);
    expect(machine.dispatchHypercall(domain.vcpus[0], Hypercall.vcpu_op, args)).toBe(-Errno.EINVAL);
  });

  it("−EINVAL for a CR3 frame that is not a valid L4 (a data page), and a GDT frame that cannot be typed", () => {
    const a = setup();
    const dataMfn = a.v0.translate(a.v0.cpu.rip, false) >> 12; // the kernel's code page
    a.set("ctrlreg.3", BigInt(dataMfn) << 12n);
    expect(a.initialise()).toBe(-Errno.EINVAL);
    expect(a.v1.guestTable).toBe(-1);
    const b = setup();
    const writable = b.v0.translate(b.domain.arch.layout!.vStack, true) >> 12;
    b.set("gdt_ents", 16);
    b.set("gdt_frames.0", writable); // mapped writable: cannot be a descriptor page
    expect(b.initialise()).toBe(-Errno.EINVAL);
    expect(b.v1.gdtFrames).toEqual([]);
  });

  it("−EFAULT when the context cannot be read", () => {
    const { machine, domain } = setup();
    const args = domain.vcpus[0].hypercallArgs;
    args.set(0, VcpuOp.initialise, 0);
    args.set(1, 1, 0);
    args.set(2, 0, 0x7fff); // 0x7fff00000000: not mapped
    expect(machine.dispatchHypercall(domain.vcpus[0], Hypercall.vcpu_op, args)).toBe(-Errno.EFAULT);
  });
});
