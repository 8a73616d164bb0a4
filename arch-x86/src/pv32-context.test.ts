/**
 * The compat vcpu_guest_context of PV32 vCPUs (Xen's arch_set_info_guest,
 * arch_get_info_guest and arch_vcpu_reset for is_pv_32bit_domain), on the x86 agent image
 * booted with two vCPUs: VCPUOP_initialise loads the 32-bit registers, selectors raised to
 * ring 1, the trap table, the cs:eip callbacks and the L3 CR3 names (into slot 0 of the
 * vCPU's own L4); a reload compares the L3 and not ctrlreg[1]; a reset releases the L3;
 * getvcpucontext writes the compat layout back.
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  bootInitialDomain,
  createMachine,
  Errno,
  Hypercall,
  RecordingConsoleSink,
  StructBuffer,
  VcpuContextRun,
  VcpuOp,
  VcpuState,
  type HypercallContext,
} from "@hvkit/core";
import { VCPU_GUEST_CONTEXT_X86, VGCF_IN_KERNEL, VGCF_ONLINE } from "./abi.js";
import { Reg, Seg } from "./cpu-api.js";
import { X86_32_DATA_MODEL } from "./data-model.js";
import { compatCr3ToPfn, compatPfnToCr3, fixupGuestSelector } from "./pv-vcpu-context.js";
import { X86PvPlugin } from "./pv32-plugin.js";

const AGENT = new URL("../agent/agent.elf", import.meta.url);
const layout = VCPU_GUEST_CONTEXT_X86.layout(X86_32_DATA_MODEL);
const EIP = 0x101234;
const ESP = 0x180000;

function setup() {
  const plugin = new X86PvPlugin();
  const machine = createMachine(container.createChildContainer(), {
    arch: plugin,
    memoryMiB: 32,
    console: new RecordingConsoleSink(),
  });
  const domain = bootInitialDomain(machine, readFileSync(AGENT), { vcpus: 2 });
  const v0 = domain.vcpus[0].arch;
  const v1 = domain.vcpus[1].arch;
  const l3 = v0.guestTable;
  const ctxVa = domain.arch.layout!.vStack + 4096n; // writable, past the boot stack
  const buf = new StructBuffer(layout.size);
  const set = (path: string, value: number | bigint) => layout.set(buf.view, 0, path, value);
  // A good compat context: ring-1 kernel on vCPU 0's L3, selectors with RPL 0.
  set("flags", VGCF_IN_KERNEL);
  set("user_regs.eip", EIP);
  set("user_regs.esp", ESP);
  set("user_regs.ebx", 0x11223344);
  set("user_regs.cs", 0xe018); // FLAT_RING1_CS with RPL 0: raised to 1
  set("user_regs.ss", 0xe021);
  set("user_regs.ds", 0xe021);
  set("user_regs.eflags", 0x3202); // IOPL 3 | IF
  set("kernel_ss", 0xe020);
  set("kernel_sp", ESP);
  set("ctrlreg.3", compatPfnToCr3(l3));
  set("event_callback_cs", 0xe018);
  set("event_callback_eip", EIP + 0x100);
  set("failsafe_callback_cs", 0xe019);
  set("failsafe_callback_eip", EIP + 0x200);
  set("trap_ctxt.14.vector", 14);
  set("trap_ctxt.14.cs", 0xe018);
  set("trap_ctxt.14.address", EIP + 0x300);
  const initialise = (): number => {
    expect(v0.translate(ctxVa + BigInt(layout.size), true)).toBeGreaterThan(0);
    for (let i = 0; i < layout.size; i++) {
      machine.memory.bytes[v0.translate(ctxVa + BigInt(i), true)] = buf.bytes[i];
    }
    const args = domain.vcpus[0].hypercallArgs;
    args.set(0, VcpuOp.initialise, 0);
    args.set(1, 1, 0);
    args.set(2, Number(ctxVa), 0);
    return Number(machine.dispatchHypercall(domain.vcpus[0], Hypercall.vcpu_op, args));
  };
  /** The arch hook alone (domctl setvcpucontext's part), `initialised` as the core has it. */
  const reload = (initialised = true): number =>
    plugin.setVcpuContext(machine, domain.vcpus[1], new DataView(buf.bytes.buffer), initialised);
  return { plugin, machine, domain, v0, v1, l3, set, initialise, reload };
}

describe("compat_pfn_to_cr3", () => {
  it("rotates frame bits 20 and up into CR3 bits 0–11, and back", () => {
    expect(compatPfnToCr3(0x123)).toBe(0x123000);
    expect(compatPfnToCr3(0x100001)).toBe(0x1001);
    expect(compatCr3ToPfn(0x1001)).toBe(0x100001);
    expect(compatCr3ToPfn(compatPfnToCr3(0xfffff))).toBe(0xfffff);
  });
});

describe("__fixup_guest_selector", () => {
  it("raises an RPL below the guest kernel's to it (ring 1 for PV32, 3 for 64-bit PV)", () => {
    expect(fixupGuestSelector(0xe018, 1)).toBe(0xe019);
    expect(fixupGuestSelector(0xe01b, 1)).toBe(0xe01b);
    expect(fixupGuestSelector(0xe031, 3)).toBe(0xe033);
    expect(fixupGuestSelector(0xe032, 3)).toBe(0xe033);
    expect(fixupGuestSelector(0xe033, 3)).toBe(0xe033);
  });
});

describe("VCPUOP_initialise (PV32)", () => {
  it("loads 32-bit registers, ring-1 selectors, trap table, cs:eip callbacks and the L3; the vCPU stays down; then −EEXIST", () => {
    const { machine, domain, v0, v1, l3, initialise } = setup();
    const ft = machine.memory.frameTable;
    const l3Types = ft.typeCount[l3];
    expect(initialise()).toBe(0);
    expect(domain.vcpus[1].state).toBe(VcpuState.Down);
    expect(v1.cpu.rip).toBe(BigInt(EIP));
    expect(v1.cpu.getReg(Reg.RSP)).toBe(BigInt(ESP));
    expect(v1.cpu.getReg(Reg.RBX)).toBe(0x11223344n);
    expect([v1.cpu.sel[Seg.CS], v1.cpu.sel[Seg.SS], v1.cpu.sel[Seg.DS]]).toEqual([
      0xe019, 0xe021, 0xe021,
    ]);
    expect([v1.cpu.cpl, v1.kernelMode]).toEqual([1, true]);
    expect(v1.cpu.rflags & 0x3000).toBe(0); // IOPL virtualised
    expect(v1.iopl).toBe(0x3000);
    expect(v1.guestTable).toBe(l3);
    expect(ft.typeCount[l3]).toBe(l3Types + 1); // new_baseptr's reference
    // The vCPU's own L4 runs the L3: it sees vCPU 0's mappings.
    expect(v1.translate(BigInt(EIP), false)).toBe(v0.translate(BigInt(EIP), false));
    expect([v1.kernelSs, v1.kernelSp]).toEqual([0xe021, ESP]);
    expect([v1.eventCs, v1.eventEip]).toEqual([0xe019, EIP + 0x100]);
    expect([v1.failsafeCs, v1.failsafeEip]).toEqual([0xe019, EIP + 0x200]);
    expect([v1.trapCs[14], v1.trapAddr[14]]).toEqual([0xe019, EIP + 0x300]);
    expect(initialise()).toBe(-Errno.EEXIST);
  });

  it("takes a context without VGCF_in_kernel or a user page table (64-bit PV's check only); a ring-3 CS is user mode", () => {
    const { v1, set, initialise } = setup();
    set("flags", 0);
    set("user_regs.cs", 0xe02b); // FLAT_RING3_CS
    set("user_regs.ss", 0xe033);
    expect(initialise()).toBe(0);
    expect([v1.cpu.cpl, v1.kernelMode]).toEqual([3, false]);
  });

  it.each<[string, (set: (p: string, v: number | bigint) => void) => void]>([
    ["an unaligned LDT", (set) => (set("ldt_base", 0x1008), set("ldt_ents", 1))],
    ["more than 8192 LDT entries", (set) => set("ldt_ents", 8193)],
    ["more GDT entries than 16 frames", (set) => set("gdt_ents", 16 * 512 + 1)],
    ["CR3 naming frame 0 (not the domain's)", (set) => set("ctrlreg.3", 0)],
  ])("−EINVAL for %s; the vCPU holds nothing", (_what, spoil) => {
    const { machine, v1, l3, set, initialise } = setup();
    const ft = machine.memory.frameTable;
    const l3Types = ft.typeCount[l3];
    spoil(set);
    expect(initialise()).toBe(-Errno.EINVAL);
    expect(v1.guestTable).toBe(-1);
    expect(ft.typeCount[l3]).toBe(l3Types);
  });

  it("−EINVAL for a CR3 frame that is not a valid L3 (a code page: slot 3 names no L2)", () => {
    const { v0, v1, set, initialise } = setup();
    set("ctrlreg.3", compatPfnToCr3(v0.translate(BigInt(EIP), false) >> 12));
    expect(initialise()).toBe(-Errno.EINVAL);
    expect(v1.guestTable).toBe(-1);
  });
});

describe("setvcpucontext reload and reset (PV32)", () => {
  it("a reload of an initialised vCPU compares the L3, not ctrlreg[1]; another L3 is −EOPNOTSUPP", () => {
    const { machine, v1, l3, set, initialise, reload } = setup();
    expect(initialise()).toBe(0);
    const types = machine.memory.frameTable.typeCount[l3];
    set("ctrlreg.1", 0x5000); // no user page table in a compat context: ignored
    set("user_regs.ebx", 0x55);
    set("flags", VGCF_IN_KERNEL | VGCF_ONLINE);
    expect(reload()).toBe(VcpuContextRun.Online);
    expect(v1.cpu.getReg(Reg.RBX)).toBe(0x55n);
    expect(machine.memory.frameTable.typeCount[l3]).toBe(types); // no new reference
    set("ctrlreg.3", compatPfnToCr3(l3 + 1));
    expect(reload()).toBe(-Errno.EOPNOTSUPP);
  });

  it("a reset releases the L3 and empties the vCPU's L4 slot 0; a context loads again", () => {
    const { plugin, machine, domain, v1, l3, initialise, reload } = setup();
    const ft = machine.memory.frameTable;
    const l3Types = ft.typeCount[l3];
    expect(initialise()).toBe(0);
    expect(plugin.resetVcpu(machine, domain.vcpus[1])).toBe(0);
    expect([v1.guestTable, ft.typeCount[l3]]).toEqual([-1, l3Types]);
    expect(machine.memory.read32(v1.compatL4 * 4096)).toBe(0);
    expect(v1.cpu.cr3).toBe(0);
    expect(reload(false)).toBe(VcpuContextRun.Down);
    expect([v1.guestTable, ft.typeCount[l3]]).toEqual([l3, l3Types + 1]);
  });
});

describe("getvcpucontext (PV32 arch_get_info_guest)", () => {
  it("writes the compat layout: registers, flags with the virtual IOPL, callbacks, trap table, L3 as compat CR3", () => {
    const { machine, domain, v0, v1, l3, initialise } = setup();
    expect(initialise()).toBe(0);
    domain.vcpus[1].state = VcpuState.Runnable;
    const va = domain.arch.layout!.vStack + 8192n;
    const ctx: HypercallContext = { machine, domain, vcpu: domain.vcpus[0] };
    expect(v1.saveGuestContext(ctx, va)).toBe(0);
    const bytes = new Uint8Array(layout.size);
    for (let i = 0; i < layout.size; i++) {
      bytes[i] = machine.memory.bytes[v0.translate(va + BigInt(i), false)];
    }
    const view = new DataView(bytes.buffer);
    const get = (path: string): number => layout.getNumber(view, 0, path);
    expect(get("flags")).toBe(VGCF_IN_KERNEL | VGCF_ONLINE);
    expect([get("user_regs.eip"), get("user_regs.esp"), get("user_regs.ebx")]).toEqual([
      EIP,
      ESP,
      0x11223344,
    ]);
    expect(get("user_regs.eflags") & 0x3200).toBe(0x3200);
    expect([get("user_regs.cs"), get("user_regs.ds")]).toEqual([0xe019, 0xe021]);
    expect([get("kernel_ss"), get("kernel_sp")]).toEqual([0xe021, ESP]);
    expect(get("ctrlreg.3")).toBe(compatPfnToCr3(l3));
    expect(get("ctrlreg.1")).toBe(0);
    expect([get("event_callback_cs"), get("event_callback_eip")]).toEqual([0xe019, EIP + 0x100]);
    expect([get("failsafe_callback_cs"), get("failsafe_callback_eip")]).toEqual([
      0xe019,
      EIP + 0x200,
    ]);
    expect([get("trap_ctxt.14.vector"), get("trap_ctxt.14.cs")]).toEqual([14, 0xe019]);
    expect(get("trap_ctxt.14.address")).toBe(EIP + 0x300);
    expect(v1.saveGuestContext(ctx, 0xc000_0000n)).toBe(-Errno.EFAULT);
  });
});
