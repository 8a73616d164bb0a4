/**
 * arch_set_info_guest on x86_64 PV. VCPUOP_initialise: a context loads registers, page
 * tables, trap table and callbacks into the second vCPU of a freshly built domain; each
 * kind of bad context is −EINVAL (or −EFAULT) and leaves the vCPU holding nothing. domctl
 * setvcpucontext from that domain as a toolstack: a first load for another domain, a
 * reload of an initialised vCPU (same tables, else −EOPNOTSUPP), VGCF_online, vm_assist,
 * and the reset of a null context (arch_vcpu_reset).
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import {
  bootInitialDomain,
  createMachine,
  DomctlCmd,
  Errno,
  FRAME_FREE,
  Hypercall,
  MemoryOp,
  RecordingConsoleSink,
  StructBuffer,
  VcpuOp,
  VcpuState,
  XEN_DOMCTL,
  XEN_DOMCTL_INTERFACE_VERSION,
  XEN_MEMORY_RESERVATION,
} from "@hvkit/core";
import {
  PageType,
  Reg,
  Seg,
  VCPU_GUEST_CONTEXT_X86,
  VGCF_FAILSAFE_DISABLES_EVENTS,
  VGCF_I387_VALID,
  VGCF_IN_KERNEL,
  VGCF_ONLINE,
  VGCF_SYSCALL_DISABLES_EVENTS,
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
    expect(v1.cpu.cr4).toBe(0x406e0); // the host's, with OSXSAVE
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

  // Xen's arch_set_info_guest copies the register frame in before its later checks, and the
  // kernel stack and callbacks before the page tables, so a context refused by those leaves
  // them loaded (harmless: the vCPU is not initialised and cannot run). `loaded`: 0 nothing,
  // 1 the registers, 2 also the kernel stack.
  it.each<[string, 0 | 1 | 2, (set: (p: string, v: number | bigint) => void) => void]>([
    ["DR7 wider than 32 bits", 0, (set) => set("debugreg.7", 1n << 32n)],
    ["a breakpoint in the hypervisor's range", 0, (set) => set("debugreg.0", 0xffff800000000000n)],
    ["a non-canonical rip", 0, (set) => set("user_regs.rip", 0x0000800000000000n)],
    ["a non-canonical kernel_sp", 0, (set) => set("kernel_sp", 0x8000000000000000n)],
    ["a non-canonical trap handler", 0, (set) => set("trap_ctxt.3.address", 1n << 60n)],
    ["a non-canonical callback", 0, (set) => set("failsafe_callback_eip", 1n << 50n)],
    ["an unaligned LDT", 0, (set) => (set("ldt_base", 0x1008n), set("ldt_ents", 1))],
    ["more than 8192 LDT entries", 0, (set) => set("ldt_ents", 8193)],
    ["more GDT entries than 16 frames", 1, (set) => set("gdt_ents", 16 * 512 + 1)],
    ["user mode without a user page table", 1, (set) => set("flags", 0)],
    ["CR3 naming a frame past memory", 2, (set) => set("ctrlreg.3", 1n << 40n)],
  ])("−EINVAL for %s; the vCPU holds nothing (registers loaded: %s)", (_what, loaded, spoil) => {
    const { machine, domain, v0, v1, set, initialise } = setup();
    const ft = machine.memory.frameTable;
    const l4Types = ft.typeCount[v0.guestTable];
    spoil(set);
    expect(initialise()).toBe(-Errno.EINVAL);
    expect(v1.guestTable).toBe(-1);
    expect(v1.cpu.rip === RIP).toBe(loaded > 0);
    expect(v1.kernelSp === SP).toBe(loaded > 1);
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

describe("domctl setvcpucontext of another domain's vCPU (x86_64 PV)", () => {
  const DOMCTL = XEN_DOMCTL.layout(X86_64_DATA_MODEL);

  /** dom0 (the hello guest) as the toolstack, and an empty domU with an L4 and a GDT frame. */
  function toolstack() {
    const s = setup();
    const { machine, domain: dom0, v0 } = s;
    const domU = machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    domU.maxPages = 8;
    const [l4, gdt] = machine.allocFrames(domU, 2)!;
    const base = dom0.arch.layout!.vStack + 4096n * 3n;
    const write = (va: bigint, bytes: Uint8Array): void => {
      for (let i = 0; i < bytes.length; i++) {
        const pa = v0.translate(va + BigInt(i), true);
        expect(pa).toBeGreaterThanOrEqual(0);
        machine.memory.bytes[pa] = bytes[i];
      }
    };
    const ctx = new StructBuffer(layout.size);
    const put = (path: string, value: number | bigint) => layout.set(ctx.view, 0, path, value);
    put("flags", VGCF_IN_KERNEL);
    put("user_regs.rip", RIP);
    put("user_regs.cs", 0xe033);
    put("kernel_sp", SP);
    put("ctrlreg.3", BigInt(l4) << 12n);
    put("gdt_ents", 16);
    put("gdt_frames.0", gdt);
    /** domctl setvcpucontext of domU's vCPU 0 with the context as it is now (null: reset). */
    const setContext = (nullContext = false): number => {
      const ctxVa = base + 4096n;
      write(ctxVa, ctx.bytes.subarray(0, layout.size));
      const req = new StructBuffer(DOMCTL.size);
      DOMCTL.set(req.view, 0, "cmd", DomctlCmd.setvcpucontext);
      DOMCTL.set(req.view, 0, "interface_version", XEN_DOMCTL_INTERFACE_VERSION);
      DOMCTL.set(req.view, 0, "domain", domU.id);
      DOMCTL.set(req.view, 0, "u.vcpucontext.vcpu", 0);
      DOMCTL.set(req.view, 0, "u.vcpucontext.ctxt", nullContext ? 0n : ctxVa);
      write(base, req.bytes.subarray(0, DOMCTL.size));
      const args = dom0.vcpus[0].hypercallArgs;
      args.set(0, Number(base & 0xffffffffn), Number(base >> 32n));
      return Number(machine.dispatchHypercall(dom0.vcpus[0], Hypercall.domctl, args));
    };
    /** dom0's decrease_reservation of domU's machine frame `mfn`: the extents done. */
    const giveBack = (mfn: number): number => {
      const res = XEN_MEMORY_RESERVATION.layout(X86_64_DATA_MODEL);
      const list = base + 0x800n;
      const req = new StructBuffer(res.size);
      res.set(req.view, 0, "extent_start", list);
      res.set(req.view, 0, "nr_extents", 1n);
      res.set(req.view, 0, "domid", domU.id);
      const entry = new StructBuffer(8);
      entry.view.setBigUint64(0, BigInt(mfn), true);
      write(list, entry.bytes);
      write(base, req.bytes.subarray(0, res.size));
      const args = dom0.vcpus[0].hypercallArgs;
      args.set(0, MemoryOp.decrease_reservation, 0);
      args.set(1, Number(base & 0xffffffffn), Number(base >> 32n));
      return Number(machine.dispatchHypercall(dom0.vcpus[0], Hypercall.memory_op, args));
    };
    const ft = machine.memory.frameTable;
    return { machine, domU, u: domU.vcpus[0].arch, l4, gdt, put, setContext, giveBack, ft };
  }

  it("loads a vCPU never initialised: page table and GDT referenced for the domU, vm_assist taken; down unless VGCF_online", () => {
    const { domU, u, l4, gdt, put, setContext, ft } = toolstack();
    put("vm_assist", 1n << 32n); // m2p_strict
    expect(setContext()).toBe(0);
    expect(u.guestTable).toBe(l4);
    expect([ft.type[l4], ft.typeCount[l4], ft.refCount[l4]]).toEqual([PageType.L4, 1, 1]);
    expect([ft.type[gdt], ft.typeCount[gdt]]).toEqual([PageType.SegDesc, 1]);
    expect(u.gdtFrames).toEqual([gdt]);
    expect(domU.hasVmAssist(32)).toBe(true);
    expect(domU.vcpus[0].state).toBe(VcpuState.Down);
  });

  it("vCPU 0's vm_assist may hold only the arch's types: −EINVAL, nothing referenced", () => {
    const { domU, u, l4, put, setContext, ft } = toolstack();
    put("vm_assist", 1n << 10n);
    expect(setContext()).toBe(-Errno.EINVAL);
    expect([u.guestTable, ft.typeCount[l4], ft.refCount[l4]]).toEqual([-1, 0, 0]);
    expect(domU.vmAssist).toBe(0);
  });

  it("reloads an initialised vCPU with the same tables: registers and callbacks, no new references; VGCF_online brings it up, its absence down", () => {
    const { domU, u, l4, gdt, put, setContext, ft } = toolstack();
    expect(setContext()).toBe(0);
    put("user_regs.rip", RIP + 0x10n);
    put("event_callback_eip", RIP + 0x20n);
    put("flags", VGCF_IN_KERNEL | VGCF_ONLINE);
    expect(setContext()).toBe(0);
    expect(u.cpu.rip).toBe(RIP + 0x10n);
    expect(u.eventCallback).toBe(RIP + 0x20n);
    expect([ft.typeCount[l4], ft.refCount[l4], ft.typeCount[gdt]]).toEqual([1, 1, 1]);
    expect(domU.vcpus[0].state).toBe(VcpuState.Runnable);
    put("flags", VGCF_IN_KERNEL);
    expect(setContext()).toBe(0);
    expect(domU.vcpus[0].state).toBe(VcpuState.Down);
  });

  it.each<[string, (put: (p: string, v: number | bigint) => void, gdt: number) => void]>([
    ["another kernel page table", (put, gdt) => put("ctrlreg.3", BigInt(gdt) << 12n)],
    ["a user page table it does not have", (put) => put("ctrlreg.1", 0x5000n)],
    ["user mode without a user page table", (put) => put("flags", 0)],
    ["another GDT size", (put) => put("gdt_ents", 32)],
    ["another GDT frame", (put) => put("gdt_frames.0", 0)],
    ["an LDT it does not have", (put) => (put("ldt_ents", 1), put("ldt_base", 0x10000n))],
  ])(
    "a reload with %s is −EOPNOTSUPP, after the registers are in and before the callbacks",
    (_what, change) => {
      const { domU, u, l4, gdt, put, setContext, ft } = toolstack();
      expect(setContext()).toBe(0);
      put("user_regs.rip", RIP + 0x10n);
      put("event_callback_eip", RIP + 0x20n);
      put("flags", VGCF_IN_KERNEL | VGCF_ONLINE);
      change(put, gdt);
      expect(setContext()).toBe(-Errno.EOPNOTSUPP);
      expect(u.cpu.rip).toBe(RIP + 0x10n);
      expect(u.eventCallback).toBe(0n);
      expect([u.guestTable, ft.typeCount[l4], ft.typeCount[gdt]]).toEqual([l4, 1, 1]);
      expect(domU.vcpus[0].state).toBe(VcpuState.Down);
    },
  );

  it("a null context resets the vCPU: its page table and GDT references go; a context loads again", () => {
    const { machine, domU, u, l4, gdt, setContext, giveBack, ft } = toolstack();
    expect(setContext()).toBe(0);
    expect(setContext(true)).toBe(0);
    expect([u.guestTable, u.gdtFrames.length, u.gdtEntries]).toEqual([-1, 0, 0]);
    expect([ft.typeCount[l4], ft.refCount[l4], ft.typeCount[gdt], ft.refCount[gdt]]).toEqual([
      0, 0, 0, 0,
    ]);
    expect(domU.vcpus[0].state).toBe(VcpuState.Down);
    // No longer initialised: the same context is a first load again, not a reload.
    expect(setContext()).toBe(0);
    expect([ft.typeCount[l4], ft.typeCount[gdt]]).toEqual([1, 1]);
    // The page table given back while the vCPU uses it stays until the reset drops it.
    const before = machine.freeFrameCount();
    const pages = domU.totPages;
    expect(giveBack(l4)).toBe(1);
    expect([ft.owner[l4], domU.totPages, machine.freeFrameCount()]).toEqual([
      domU.id,
      pages,
      before,
    ]);
    expect(setContext(true)).toBe(0);
    expect([ft.owner[l4], domU.totPages, machine.freeFrameCount()]).toEqual([
      FRAME_FREE,
      pages - 1,
      before + 1,
    ]);
  });
});

describe("the FPU state and flags of a 64-bit context (vcpu_setup_fpu, arch_get_info_guest)", () => {
  const FPU = layout.offsetOf("fpu_ctxt");
  function saved(s: ReturnType<typeof setup>): DataView {
    const { machine, domain, v0, v1 } = s;
    const va = domain.arch.layout!.vStack + 8192n;
    expect(v1.saveGuestContext({ machine, domain, vcpu: domain.vcpus[0] }, va)).toBe(0);
    const bytes = new Uint8Array(layout.size);
    for (let i = 0; i < layout.size; i++) {
      bytes[i] = machine.memory.bytes[v0.translate(va + BigInt(i), false)];
    }
    return new DataView(bytes.buffer);
  }

  it("loads an FXSAVE64 image (width byte 0) and reports it as FXSAVE64 with width 8 and VGCF_i387_valid", () => {
    const s = setup();
    const fpu = (i: number, b: number) => s.set(`fpu_ctxt.${i}`, b);
    fpu(0, 0x7f); // FCW 0x027f
    fpu(1, 0x02);
    fpu(8, 0x10); // FIP 0x0000_1234_0040_1010
    fpu(9, 0x10);
    fpu(10, 0x40);
    fpu(12, 0x34);
    fpu(13, 0x12);
    fpu(24, 0xc0); // MXCSR 0x9fc0
    fpu(25, 0x9f);
    fpu(160 + 16 * 15, 0x5a); // XMM15 byte 0
    s.set("flags", VGCF_IN_KERNEL | VGCF_I387_VALID);
    expect(s.initialise()).toBe(0);
    const view = saved(s);
    expect(layout.getNumber(view, 0, "flags")).toBe(VGCF_IN_KERNEL | VGCF_I387_VALID);
    expect(view.getUint16(FPU, true)).toBe(0x027f);
    expect(view.getBigUint64(FPU + 8, true)).toBe(0x0000_1234_0040_1010n);
    expect(view.getUint32(FPU + 24, true)).toBe(0x9fc0);
    expect(view.getUint8(FPU + 160 + 16 * 15)).toBe(0x5a);
    expect(view.getUint8(FPU + 511)).toBe(8);
  });

  it("without VGCF_i387_valid: the initial FPU state, the flag clear until the vCPU runs", () => {
    const s = setup();
    s.set("fpu_ctxt.0", 0x7f);
    expect(s.initialise()).toBe(0);
    let view = saved(s);
    expect(layout.getNumber(view, 0, "flags") & VGCF_I387_VALID).toBe(0);
    expect([view.getUint16(FPU, true), view.getUint32(FPU + 24, true)]).toEqual([0x37f, 0x1f80]);
    s.v1.run(1); // eager FPU: the state is the guest's once it is scheduled
    view = saved(s);
    expect(layout.getNumber(view, 0, "flags") & VGCF_I387_VALID).toBe(VGCF_I387_VALID);
  });

  it("VGCF_syscall_disables_events and failsafe_disables_events live in the flags: loaded, changed by callback registration, reported", () => {
    const s = setup();
    s.set("flags", VGCF_IN_KERNEL | VGCF_SYSCALL_DISABLES_EVENTS);
    expect(s.initialise()).toBe(0);
    expect(s.v1.syscallMasksEvents).toBe(true);
    s.v1.syscallMasksEvents = false;
    s.v1.contextFlags |= VGCF_FAILSAFE_DISABLES_EVENTS;
    expect(layout.getNumber(saved(s), 0, "flags")).toBe(
      VGCF_IN_KERNEL | VGCF_FAILSAFE_DISABLES_EVENTS,
    );
  });
});
