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
import {
  VCPU_GUEST_CONTEXT_X86,
  VGCF_FAILSAFE_DISABLES_EVENTS,
  VGCF_I387_VALID,
  VGCF_IN_KERNEL,
  VGCF_ONLINE,
} from "./abi.js";
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

/** vCPU 1's context as getvcpucontext writes it (to vCPU 0's stack page and back). */
function savedContext(s: ReturnType<typeof setup>): DataView {
  const { machine, domain, v0, v1 } = s;
  const va = domain.arch.layout!.vStack + 8192n;
  const ctx: HypercallContext = { machine, domain, vcpu: domain.vcpus[0] };
  expect(v1.saveGuestContext(ctx, va)).toBe(0);
  const bytes = new Uint8Array(layout.size);
  for (let i = 0; i < layout.size; i++) {
    bytes[i] = machine.memory.bytes[v0.translate(va + BigInt(i), false)];
  }
  return new DataView(bytes.buffer);
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
    const s = setup();
    const { machine, domain, v1, l3, initialise } = s;
    expect(initialise()).toBe(0);
    domain.vcpus[1].state = VcpuState.Runnable;
    const view = savedContext(s);
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
    const ctx: HypercallContext = { machine, domain, vcpu: domain.vcpus[0] };
    expect(v1.saveGuestContext(ctx, 0xc000_0000n)).toBe(-Errno.EFAULT);
  });
});

describe("the FPU state and flags of a compat context (vcpu_setup_fpu, arch_get_info_guest)", () => {
  const FPU = layout.offsetOf("fpu_ctxt");
  /** A 32-bit-form FXSAVE image in the context: FCW, FCS, ST0's significand, MXCSR, XMM0. */
  function image(set: (p: string, v: number | bigint) => void, mxcsr: number, width: number) {
    const bytes = new Uint8Array(layout.size);
    const view = new DataView(bytes.buffer);
    view.setUint16(FPU, 0x027f, true); // FCW: 53-bit precision
    view.setUint8(FPU + 4, 0x80); // R7 valid (ST0 with TOP 7)
    view.setUint16(FPU + 2, 7 << 11, true); // TOP 7
    view.setUint32(FPU + 8, 0x00401000, true); // FIP
    view.setUint16(FPU + 12, 0xe019, true); // FCS (32-bit form)
    view.setUint32(FPU + 32, 0x89abcdef, true); // ST0 significand low
    view.setUint16(FPU + 40, 0x3fff, true); // ST0 exponent
    view.setUint32(FPU + 24, mxcsr, true);
    view.setUint32(FPU + 160, 0xdeadbeef, true); // XMM0 lane 0
    view.setUint8(FPU + 511, width);
    for (let i = 0; i < 512; i++) set(`fpu_ctxt.${i}`, bytes[FPU + i]);
  }
  /** The vCPU's state as an image of the given form. */
  function state(v: { cpu: { saveFxImage(view: DataView, off: number, wide: boolean): void } }) {
    const view = new DataView(new ArrayBuffer(512));
    v.cpu.saveFxImage(view, 0, false);
    return {
      fcw: view.getUint16(0, true),
      top: (view.getUint16(2, true) >> 11) & 7,
      fcs: view.getUint16(12, true),
      st0: view.getUint32(32, true),
      mxcsr: view.getUint32(24, true),
      xmm0: view.getUint32(160, true),
    };
  }
  it("VGCF_i387_valid loads the image (32-bit form for width 4); getvcpucontext gives it back with width 4 and the flag", () => {
    const s = setup();
    image(s.set, 0x9fc0, 4);
    s.set("flags", VGCF_IN_KERNEL | VGCF_I387_VALID);
    expect(s.initialise()).toBe(0);
    expect(state(s.v1)).toEqual({
      fcw: 0x027f,
      top: 7,
      fcs: 0xe019,
      st0: 0x89abcdef,
      mxcsr: 0x9fc0,
      xmm0: 0xdeadbeef,
    });
    const view = savedContext(s);
    const get = (path: string): number => layout.getNumber(view, 0, path);
    expect(get("flags")).toBe(VGCF_IN_KERNEL | VGCF_I387_VALID); // still down: not online
    expect([view.getUint16(FPU, true), view.getUint16(FPU + 12, true)]).toEqual([0x027f, 0xe019]);
    expect([view.getUint32(FPU + 24, true), view.getUint32(FPU + 160, true)]).toEqual([
      0x9fc0, 0xdeadbeef,
    ]);
    expect(view.getUint8(FPU + 511)).toBe(4); // x87_fip_width of a PV32 domain
  });

  it("an image of another width is restored with FXRSTOR64: bytes 12–15 are FIP's high half, no FCS", () => {
    const s = setup();
    image(s.set, 0x1f80, 0);
    s.set("flags", VGCF_IN_KERNEL | VGCF_I387_VALID);
    expect(s.initialise()).toBe(0);
    const view = new DataView(new ArrayBuffer(512));
    s.v1.cpu.saveFxImage(view, 0, true);
    expect([view.getUint32(8, true), view.getUint32(12, true)]).toEqual([0x00401000, 0xe019]);
    expect(state(s.v1).fcs).toBe(0);
  });

  it("without VGCF_i387_valid the vCPU gets the initial state (FCW 0x37f, MXCSR 0x1f80) and the flag stays clear", () => {
    const s = setup();
    image(s.set, 0x9fc0, 4); // ignored
    expect(s.initialise()).toBe(0);
    expect(state(s.v1)).toEqual({ fcw: 0x37f, top: 0, fcs: 0, st0: 0, mxcsr: 0x1f80, xmm0: 0 });
    expect(layout.getNumber(savedContext(s), 0, "flags") & VGCF_I387_VALID).toBe(0);
  });

  it("an image with reserved MXCSR bits leaves x87 and SSE initial, MXCSR masked (xrstor's fixup)", () => {
    const s = setup();
    image(s.set, 0x10000 | 0x1fa0, 4);
    s.set("flags", VGCF_IN_KERNEL | VGCF_I387_VALID);
    expect(s.initialise()).toBe(0);
    expect(state(s.v1)).toEqual({ fcw: 0x37f, top: 0, fcs: 0, st0: 0, mxcsr: 0x1fa0, xmm0: 0 });
  });

  it("flags are those loaded less i387_valid/in_kernel, recomputed: VGCF_online and failsafe_disables_events kept; a reset clears i387_valid", () => {
    const s = setup();
    const { plugin, machine, domain, set, reload } = s;
    image(set, 0x1f80, 4);
    set("flags", VGCF_I387_VALID | VGCF_ONLINE | VGCF_FAILSAFE_DISABLES_EVENTS);
    set("user_regs.cs", 0xe02b); // ring 3: not in kernel
    set("user_regs.ss", 0xe033);
    expect(reload(false)).toBe(VcpuContextRun.Online);
    expect(domain.vcpus[1].state).toBe(VcpuState.Down); // the hook alone does not wake it
    expect(layout.getNumber(savedContext(s), 0, "flags")).toBe(
      VGCF_I387_VALID | VGCF_ONLINE | VGCF_FAILSAFE_DISABLES_EVENTS,
    );
    expect(plugin.resetVcpu(machine, domain.vcpus[1])).toBe(0);
    expect(layout.getNumber(savedContext(s), 0, "flags")).toBe(
      VGCF_ONLINE | VGCF_FAILSAFE_DISABLES_EVENTS,
    );
  });

  it("a CS naming no usable descriptor leaves a compat vCPU in 32-bit code", () => {
    const s = setup();
    s.set("user_regs.cs", 0x0ff9); // GDT entry 511, empty
    expect(s.initialise()).toBe(0);
    expect(s.v1.cpu.codeSize).toBe(32);
  });

  it("data selectors load through the tables the context names (load_segments): one the checks refuse becomes null", () => {
    const s = setup();
    s.set("user_regs.es", 0xe02b); // FLAT_RING3_DS: DPL 3, usable from ring 1
    s.set("user_regs.fs", 0x0ffb); // GDT entry 511 of the boot GDT: empty
    s.set("user_regs.gs", 0xe018); // FLAT_RING1_CS: readable code, a legal data load
    expect(s.initialise()).toBe(0);
    const { sel } = s.v1.cpu;
    expect([sel[Seg.DS], sel[Seg.ES], sel[Seg.FS], sel[Seg.GS]]).toEqual([
      0xe021, 0xe02b, 0, 0xe018,
    ]);
  });
});
