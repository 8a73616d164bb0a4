/**
 * The x86_64 PV arch hypercalls, called through the machine's dispatcher on a freshly
 * built domain (the hello guest, not yet run): what each stores, and the −errno Xen
 * returns for each kind of bad argument. Also bounce frames, iret and CPUID policy.
 */
import { describe, expect, it } from "vitest";
import { Errno, MemoryOp, ShutdownReason, VCPU_INFO, VcpuOp } from "@hvkit/core";
import { PageType, Pte, Reg, Seg, X86_64_DATA_MODEL } from "@hvkit/arch-x86";
import { bootedPvDomain } from "./pv-test-domain.js";
import { emulatePtWrite } from "@hvkit/arch-x86";
import { createBounceFrame, doIret, injectEvent } from "./traps.js";
import { cpuidPolicy } from "@hvkit/arch-x86";

const setup = bootedPvDomain;

describe("set_trap_table, callbacks, stack_switch, set_segment_base", () => {
  it("installs trap entries until a zero address and clears them with a null pointer", () => {
    const { v, scratch, call, put64 } = setup();
    put64(scratch, 6n | (4n << 8n) | (0xe030n << 16n));
    put64(scratch + 8n, 0x101000n);
    put64(scratch + 16n, 0x80n | (3n << 8n) | (0xe030n << 16n));
    put64(scratch + 24n, 0x102000n);
    put64(scratch + 32n, 0n);
    put64(scratch + 40n, 0n);
    expect(call(0, scratch)).toBe(0);
    expect(v.trapAddr[6]).toBe(0x101000n);
    expect(v.trapFlags[6]).toBe(4);
    expect(v.trapAddr[0x80]).toBe(0x102000n);
    expect(v.trapFlags[0x80] & 3).toBe(3);
    expect(call(0, 0x7fff00000000n)).toBe(-Errno.EFAULT);
    expect(call(0, 0)).toBe(0);
    expect(v.trapAddr[6]).toBe(0n);
  });

  it("registers callbacks as Xen does: syscall32/sysenter accepted, unknown types −ENOSYS", () => {
    const { v, scratch, call, put64 } = setup();
    const reg = (type: number, flags: number, addr: bigint): number => {
      put64(scratch, BigInt(type) | (BigInt(flags) << 16n));
      put64(scratch + 8n, addr);
      return call(30, 0, scratch);
    };
    expect(reg(2, 1, 0x100200n)).toBe(0);
    expect(v.syscallCallback).toBe(0x100200n);
    expect(v.syscallMasksEvents).toBe(true);
    expect(reg(0, 0, 0x100300n)).toBe(0);
    expect(v.eventCallback).toBe(0x100300n);
    expect(reg(7, 1, 0x100400n)).toBe(0);
    expect(reg(5, 1, 0x100400n)).toBe(0);
    expect(reg(9, 0, 0x100400n)).toBe(-Errno.ENOSYS);
    expect(reg(2, 0, 0x0000800000000000n)).toBe(-Errno.EINVAL);
    put64(scratch, 0n); // unregister event: not allowed
    expect(call(30, 1, scratch)).toBe(-Errno.EINVAL);
    put64(scratch, 4n); // unregister nmi: fine
    expect(call(30, 1, scratch)).toBe(0);
    expect(call(30, 7, scratch)).toBe(-Errno.ENOSYS);
    expect(call(30, 0, 0x7fff00000000n)).toBe(-Errno.EFAULT);
    expect(call(4, 0x100500n, 0x100600n, 0x100700n)).toBe(0); // set_callbacks
    expect([v.eventCallback, v.failsafeCallback, v.syscallCallback]).toEqual([
      0x100500n,
      0x100600n,
      0x100700n,
    ]);
  });

  it("stack_switch and set_segment_base store what later bounces and mode switches use", () => {
    const { v, call } = setup();
    expect(call(3, 0xe02b, 0x123450n)).toBe(0);
    expect(v.kernelSp).toBe(0x123450n);
    expect(v.kernelSs).toBe(0xe02b);
    expect(call(25, 0, 0x7000n)).toBe(0);
    expect(v.cpu.fsBase).toBe(0x7000n);
    expect(call(25, 2, 0x8000n)).toBe(0); // GS_KERNEL: active in kernel mode
    expect(v.cpu.gsBase).toBe(0x8000n);
    expect(call(25, 1, 0x9000n)).toBe(0); // GS_USER: the inactive one
    expect(v.inactiveGsBase).toBe(0x9000n);
    expect(call(25, 3, 0x2b)).toBe(0);
    expect(v.cpu.sel[Seg.GS]).toBe(0x2b);
    expect(call(25, 4, 0)).toBe(-Errno.EINVAL);
    expect(call(25, 0, 0x0000800000000000n)).toBe(-Errno.EINVAL);
  });
});

describe("descriptor tables", () => {
  it("set_gdt types frames as segment-descriptor pages, refusing writable-mapped ones and too many entries", () => {
    const { v, layout, call, put64, mmu, machine, scratch } = setup();
    const gdtVa = layout.vStack - 0x1000n - 0x1000n; // a page of the p2m/start_info area: use an image page instead
    void gdtVa;
    const page = 0x104000n; // inside the hello image (.page_aligned/.bss)
    const mfn = BigInt(v.domain.p2m[Number(page >> 12n)]);
    put64(scratch, mfn);
    expect(call(2, scratch, 7169)).toBe(-Errno.EINVAL);
    expect(call(2, scratch, 16)).toBe(-Errno.EINVAL); // still mapped writable
    // Remap it read-only (update_va_mapping), then it can become a GDT.
    expect(call(14, page, (mfn << 12n) | BigInt(Pte.P | Pte.A), 2)).toBe(0);
    expect(call(2, scratch, 16)).toBe(0);
    expect(machine.memory.frameTable.type[Number(mfn)]).toBe(PageType.SegDesc);
    expect(v.gdtFrames).toEqual([Number(mfn)]);
    // A writable mapping of a GDT page is refused while it is one.
    expect(call(14, page, (mfn << 12n) | BigInt(Pte.P | Pte.RW | Pte.A), 2)).toBe(-Errno.EBUSY);
    // update_descriptor: aligned, valid descriptors only, into the caller's frames.
    const ma = mfn * 4096n + 8n;
    expect(call(10, ma + 4n, 0n)).toBe(-Errno.EINVAL);
    expect(call(10, ma, 0x0000890000000000n)).toBe(-Errno.EINVAL); // a TSS descriptor
    expect(call(10, ma, 0x00af9a000000ffffn)).toBe(0);
    expect(machine.memory.read32(Number(ma) + 4)).toBe(0x00affa00); // DPL raised to 3
    expect(call(10, 0n, 0x00af9a000000ffffn)).toBe(-Errno.EINVAL); // frame 0 is not the domain's
    void mmu;
  });
});

describe("mmu_update, update_va_mapping, mmuext_op error paths", () => {
  it("returns Xen's errors and reports how many requests were done", () => {
    const { v, scratch, call, put64, get64, mmu, domain } = setup();
    put64(scratch, 5n); // unknown command in ptr's low bits (3, no-translate, is an update)
    put64(scratch + 8n, 0n);
    expect(call(1, scratch, 1, scratch + 0x100n, 0x7ff0)).toBe(-Errno.ENOSYS);
    expect(get64(scratch + 0x100n)).toBe(0n);
    expect(call(1, scratch, 1, 0, 0x1234)).toBe(-Errno.ESRCH);
    expect(call(1, 0x7fff00000000n, 1, 0, 0x7ff0)).toBe(-Errno.EFAULT);
    // MMU_MACHPHYS_UPDATE sets the M2P entry of an owned frame.
    const mfn = BigInt(domain.p2m[5]);
    put64(scratch, (mfn << 12n) | 1n);
    put64(scratch + 8n, 0x4242n);
    expect(call(1, scratch, 1, scratch + 0x100n, 0x7ff0)).toBe(0);
    expect(get64(scratch + 0x100n)).toBe(1n);
    expect(mmu.getM2p(Number(mfn))).toBe(0x4242);
    // update_va_mapping
    expect(call(14, 0x0000800000000000n, 0, 0)).toBe(-Errno.EINVAL);
    expect(call(14, 0x7f0000000000n, 0, 0)).toBe(-Errno.EINVAL); // no L1 there
    expect(call(14, 0x103000n, 0, 0x7fff00000000 + 1)).toBe(-Errno.EFAULT); // TLB_FLUSH multi, bad mask
    // mmuext_op
    put64(scratch, 99n);
    expect(call(26, scratch, 1, scratch + 0x100n, 0x7ff0)).toBe(-Errno.ENOSYS);
    put64(scratch, 5n); // NEW_BASEPTR with a data frame
    put64(scratch + 8n, mfn);
    expect(call(26, scratch, 1, 0, 0x7ff0)).toBe(-Errno.EINVAL);
    put64(scratch, 4n); // UNPIN a frame that is not pinned
    expect(call(26, scratch, 1, 0, 0x7ff0)).toBe(-Errno.EINVAL);
    put64(scratch, 12n); // FLUSH_CACHE: the privileged initial domain may
    expect(call(26, scratch, 1, scratch + 0x100n, 0x7ff0)).toBe(0);
    expect(get64(scratch + 0x100n)).toBe(1n);
    put64(scratch, 13n); // SET_LDT, unaligned base
    put64(scratch + 8n, 0x100008n);
    put64(scratch + 16n, 1n);
    expect(call(26, scratch, 1, 0, 0x7ff0)).toBe(-Errno.EINVAL);
    void v;
  });
});

describe("linear page tables (Xen's pv-linear-pt)", () => {
  /** mmu_update of the guest's root L4 slot 1 naming the root itself, read-only or not. */
  function selfMap(pvLinearPt: boolean | undefined, writable: boolean): number {
    const { v, scratch, call, put64, machine } = setup(
      pvLinearPt === undefined ? {} : { pvLinearPt },
    );
    const root = BigInt(v.guestTable);
    const slot = root * 4096n + 8n;
    expect(machine.memory.read64(Number(slot))).toBe(0n); // a free slot
    put64(scratch, slot);
    put64(scratch + 8n, (root << 12n) | BigInt(Pte.P | Pte.A | (writable ? Pte.RW : 0)));
    return call(1, scratch, 1, 0, 0x7ff0);
  }

  it("are allowed read-only by default (Xen 4.19), refused writable, and refused with pv-linear-pt=0", () => {
    expect(selfMap(undefined, false)).toBe(0);
    expect(selfMap(undefined, true)).toBe(-Errno.EINVAL);
    expect(selfMap(true, false)).toBe(0);
    expect(selfMap(false, false)).toBe(-Errno.EINVAL);
  });
});

describe("pdone of mmu_update and mmuext_op", () => {
  it("is an unsigned int: the count is written in 4 bytes and the next 4 are left alone", () => {
    const { scratch, call, put64, get64, domain } = setup();
    const done = scratch + 0x100n;
    put64(scratch, (BigInt(domain.p2m[5]) << 12n) | 1n); // MMU_MACHPHYS_UPDATE of an owned frame
    put64(scratch + 8n, 5n);
    put64(done, 0xdeadbeef_deadbeefn);
    expect(call(1, scratch, 1, done, 0x7ff0)).toBe(0);
    expect(get64(done)).toBe(0xdeadbeef_00000001n);
    put64(scratch, 12n); // MMUEXT_FLUSH_CACHE, allowed to the initial domain
    put64(done, 0xdeadbeef_deadbeefn);
    expect(call(26, scratch, 1, done, 0x7ff0)).toBe(0);
    expect(get64(done)).toBe(0xdeadbeef_00000001n);
  });
});

describe("bounce frames and iret", () => {
  it("pushes rcx, r11, error code, rip, cs (RPL 0, saved mask), rflags, rsp, ss from kernel mode", () => {
    const { v, get64 } = setup();
    const cpu = v.cpu;
    v.trapAddr[14] = 0x101000n;
    v.trapFlags[14] = 4;
    cpu.setReg(Reg.RSP, 0x200008n); // bounces align to 16
    cpu.setReg(Reg.RCX, 0x1111n);
    cpu.setReg(Reg.R11, 0x2222n);
    cpu.rip = 0x100123n;
    v.upcallMask = 0;
    expect(injectEvent(v, 14, 2)).toBeNull();
    const sp = cpu.getReg(Reg.RSP);
    expect(sp).toBe(0x200000n - 64n);
    const frame = Array.from({ length: 8 }, (_, i) => get64(sp + BigInt(8 * i)));
    expect(frame).toEqual([0x1111n, 0x2222n, 2n, 0x100123n, 0xe030n, 0x202n, 0x200008n, 0xe02bn]);
    expect(cpu.rip).toBe(0x101000n);
    expect(v.upcallMask).toBe(1); // the trap flag masked events
    expect(cpu.sel[Seg.CS]).toBe(0xe033);
  });

  it("from user mode switches to the kernel stack and page tables; iret returns to user mode", () => {
    const { v, get64, put64 } = setup();
    const cpu = v.cpu;
    v.guestTableUser = v.guestTable;
    v.kernelMode = false;
    v.kernelSp = 0x201000n;
    cpu.sel[Seg.CS] = 0xe033;
    cpu.setReg(Reg.RSP, 0x300000n);
    cpu.rip = 0x100400n;
    expect(createBounceFrame(v, 0x101000n, -1, false)).toBeNull();
    expect(v.kernelMode).toBe(true);
    const sp = cpu.getReg(Reg.RSP);
    expect(sp).toBe(0x201000n - 56n);
    expect(get64(sp + 24n)).toBe(0x10000e033n); // user CS keeps RPL 3; saved upcall mask 1 in bits 32-39
    expect(get64(sp + 32n) & 0x200n).toBe(0n); // events were masked: IF clear in the saved rflags
    expect(get64(sp + 40n)).toBe(0x300000n);
    expect(get64(sp + 48n)).toBe(0xe02bn);
    // Build an iret frame {rax, r11, rcx, flags, rip, cs, rflags, rsp, ss} and return to user mode.
    const f = sp - 72n;
    [0x77n, 0x11n, 0x22n, 0n, 0x100500n, 0xe033n, 0x246n, 0x300000n, 0xe02bn].forEach((x, i) =>
      put64(f + BigInt(8 * i), x),
    );
    cpu.setReg(Reg.RSP, f);
    expect(doIret(v)).toBe(0x77n);
    expect(v.kernelMode).toBe(false);
    expect(cpu.rip).toBe(0x100500n);
    expect(cpu.getReg(Reg.RSP)).toBe(0x300000n);
    expect(cpu.getReg(Reg.RCX)).toBe(0x22n);
    expect(cpu.rflags & 0x200).toBe(0x200);
  });

  it("crashes the domain on an unhandled exception, an unreadable iret frame or a bad bounce stack", () => {
    const { v, domain, machine } = setup();
    expect(injectEvent(v, 6, -1)).toMatch(/Unhandled: vec 6, #UD/);
    v.trapAddr[6] = 0x101000n;
    v.cpu.setReg(Reg.RSP, 0xffff800000001000n);
    expect(injectEvent(v, 6, -1)).toMatch(/hypervisor's area/);
    v.cpu.setReg(Reg.RSP, 0x7fff00000000n);
    expect(injectEvent(v, 6, -1)).toMatch(/fault writing the bounce frame/);
    v.cpu.setReg(Reg.RSP, 0x7fff00000000n);
    doIret(v);
    expect(domain.shutdownReason).toBe(ShutdownReason.Crash);
    void machine;
  });
});

describe("CPUID policy", () => {
  it("reports Xen's signature, version and hypercall page leaves, and the SIMD it implements", () => {
    const out = new Uint32Array(4);
    cpuidPolicy(0x40000000, 0, out);
    const sig = [out[1], out[2], out[3]]
      .map((w) => String.fromCharCode(w & 255, (w >> 8) & 255, (w >> 16) & 255, w >>> 24))
      .join("");
    expect(sig).toBe("XenVMMXenVMM");
    expect(out[0] - 0x40000000).toBeGreaterThanOrEqual(2);
    cpuidPolicy(0x40000001, 0, out);
    expect(out[0]).toBe((4 << 16) | 19);
    cpuidPolicy(0x40000002, 0, out);
    expect([out[0], out[1]]).toEqual([1, 0x40000000]);
    cpuidPolicy(1, 0, out);
    expect(out[2] >>> 31).toBe(1); // hypervisor
    expect(out[3] & ((1 << 2) | (1 << 7) | (1 << 14))).toBe((1 << 2) | (1 << 7) | (1 << 14)); // DE, MCE, MCA
    // FPU (x87 arithmetic); MMX, FXSR, SSE, SSE2; SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, XSAVE.
    expect(out[3] & 1).toBe(1); // FPU
    expect(out[3] & (0xf << 23)).toBe(0xf << 23);
    const ecx1 = (1 << 0) | (1 << 9) | (1 << 19) | (1 << 20) | (1 << 23) | (1 << 26);
    expect(out[2] & ecx1).toBe(ecx1);
    // Not MONITOR (never for PV), MOVBE, AES, AVX; OSXSAVE only when asked for.
    expect(out[2] & ((1 << 3) | (1 << 22) | (1 << 25) | (1 << 27) | (1 << 28))).toBe(0);
    cpuidPolicy(1, 0, out, true);
    expect(out[2] & (1 << 27)).not.toBe(0);
    cpuidPolicy(0, 0, out);
    expect(out[0]).toBe(0xd);
    cpuidPolicy(0xd, 0, out);
    expect([out[0], out[1], out[2], out[3]]).toEqual([3, 576, 576, 0]);
    cpuidPolicy(0xd, 1, out);
    expect([out[0], out[1]]).toEqual([3, 576]); // XSAVEOPT, XSAVEC; compacted size
    cpuidPolicy(0xd, 2, out);
    expect([out[0], out[1], out[2], out[3]]).toEqual([0, 0, 0, 0]);
    cpuidPolicy(7, 0, out);
    expect(out[1] & 1).toBe(1); // FSGSBASE
    cpuidPolicy(7, 1, out);
    expect(out[1]).toBe(0);
    cpuidPolicy(0x80000001, 0, out);
    expect(out[3] & (1 << 29)).not.toBe(0); // long mode
    expect(out[2]).toBe(1 << 5); // ABM (lzcnt)
  });
});

describe("event upcalls", () => {
  it("a pending, unmasked upcall bounces to the event callback with events masked", () => {
    const { v, domain, machine } = setup();
    v.eventCallback = 0x100000n; // _start: its first instruction leaves rsp alone
    const vi = domain.sharedInfoMfn * 4096;
    machine.memory.bytes[vi] = 1; // evtchn_upcall_pending
    const rsp = v.cpu.getReg(Reg.RSP);
    v.cpu.rip = 0x100000n;
    v.run(1); // masked (as at boot): no upcall
    expect(v.cpu.getReg(Reg.RSP)).toBe(rsp);
    machine.memory.bytes[vi + 1] = 0;
    v.cpu.rip = 0x100000n;
    v.run(1);
    expect(v.cpu.getReg(Reg.RSP)).toBe(rsp - 56n);
    expect(machine.memory.bytes[vi + 1]).toBe(1);
  });
});

describe("writable page tables (ptwr)", () => {
  it("emulates stores, xchg and cmpxchg to a read-only mapped L1 entry through the PV MMU", () => {
    const { v, machine, layout, mmu, put64 } = setup();
    const mem = machine.memory;
    const l1e = mmu.l1eAddress(v.guestTable, 0x103000n); // an entry of the boot L1
    const l1Mfn = Math.floor(l1e / 4096);
    const l1Va = BigInt(mmu.getM2p(l1Mfn)) * 4096n + BigInt(l1e & 4095); // its read-only alias
    expect(mmu.translate(v.guestTable, l1Va, true)).toBe(-1);
    const code = layout.vStack; // scratch bytes to decode from
    const run = (bytes: number[], rax: bigint, rdx = 0n): boolean => {
      bytes.forEach((b, i) => mem.write8(v.translate(code + BigInt(i), true), b));
      v.cpu.rip = code;
      v.cpu.setReg(Reg.RAX, rax);
      v.cpu.setReg(Reg.RDX, rdx);
      return emulatePtWrite(v, l1Va);
    };
    const dataMfn = BigInt(v.domain.p2m[0x105]);
    const entry = (dataMfn << 12n) | BigInt(Pte.P | Pte.RW | Pte.A | Pte.D);
    expect(run([0x48, 0x89, 0x07], entry)).toBe(true); // mov %rax,(%rdi)
    expect(v.cpu.rip).toBe(code + 3n);
    expect(mmu.translate(v.guestTable, 0x103000n, false)).toBe(Number(dataMfn) * 4096);
    // Mapping the L1 itself writable is refused: the #PF goes to the guest.
    expect(run([0x48, 0x89, 0x07], (BigInt(l1Mfn) << 12n) | BigInt(Pte.P | Pte.RW))).toBe(false);
    expect(v.cpu.rip).toBe(code);
    // cmpxchg: succeeds with the current value in rax, sets ZF.
    const cur = mem.read64(l1e);
    expect(run([0xf0, 0x48, 0x0f, 0xb1, 0x17], cur, 0n)).toBe(true); // lock cmpxchg %rdx,(%rdi)
    expect(mem.read64(l1e)).toBe(0n);
    expect(v.cpu.rflags & 0x40).toBe(0x40);
    // A 4-byte store to the low half merges with the high half.
    put64(code + 0x100n, 0n);
    expect(run([0x89, 0x07], (dataMfn << 12n) | BigInt(Pte.P | Pte.A))).toBe(true); // mov %eax,(%rdi)
    expect(mem.read32(l1e) & ~0xfff).toBe(Number(dataMfn << 12n) >>> 0);
    // Not a page-table page: not emulated.
    expect(emulatePtWrite(v, 0x7f0000000000n)).toBe(false);
  });

  it("emulates Linux's bit operations on an entry (ds/lock andb, orb, btrq) and widens a sub-word store", () => {
    const { v, machine, layout, mmu } = setup();
    const mem = machine.memory;
    const l1e = mmu.l1eAddress(v.guestTable, 0x103000n);
    const l1Va = BigInt(mmu.getM2p(Math.floor(l1e / 4096))) * 4096n + BigInt(l1e & 4095);
    const code = layout.vStack;
    const run = (bytes: number[], cr2 = l1Va, rax = 0n): boolean => {
      bytes.forEach((b, i) => mem.write8(v.translate(code + BigInt(i), true), b));
      v.cpu.rip = code;
      v.cpu.setReg(Reg.RAX, rax);
      return emulatePtWrite(v, cr2);
    };
    const dataMfn = BigInt(v.domain.p2m[0x105]);
    const entry = (dataMfn << 12n) | BigInt(Pte.P | Pte.RW | Pte.A | Pte.D);
    expect(run([0x48, 0x89, 0x07], l1Va, entry)).toBe(true);
    const base = mem.read64(l1e); // as Xen adjusts it (user bit and Xen's kernel marker)
    expect(base & 0xff0n).toBe(entry & 0xff0n);
    // ptep_set_wrprotect on a UP-patched kernel: ds andb $0xfd,(%r15).
    expect(run([0x3e, 0x41, 0x80, 0x27, 0xfd])).toBe(true);
    expect(v.cpu.rip).toBe(code + 5n);
    expect(mem.read64(l1e)).toBe(base & ~BigInt(Pte.RW));
    expect(mmu.translate(v.guestTable, 0x103000n, true)).toBe(-1);
    // Low byte 0x65: four bits set, so PF; CF, OF, ZF, SF clear.
    expect(base & 0xffn).toBe(0x67n);
    expect(v.cpu.rflags & 0x8d5).toBe(0x4);
    // set_bit: lock orb $2,(%rdi) makes it writable again.
    expect(run([0xf0, 0x80, 0x0f, 0x02])).toBe(true);
    expect(mem.read64(l1e)).toBe(base);
    // test_and_clear_bit(_PAGE_BIT_ACCESSED): lock btrq $5,(%rdi); CF is the old bit.
    expect(run([0xf0, 0x48, 0x0f, 0xba, 0x37, 0x05])).toBe(true);
    expect(mem.read64(l1e)).toBe(base & ~BigInt(Pte.A));
    expect(v.cpu.rflags & 1).toBe(1);
    expect(run([0xf0, 0x48, 0x0f, 0xba, 0x37, 0x05])).toBe(true);
    expect(v.cpu.rflags & 1).toBe(0);
    // A byte store to the entry's second byte keeps the others: movb %al,1(%rdi) sets the
    // software-available bits 9–11.
    expect(run([0x88, 0x47, 0x01], l1Va + 1n, ((base >> 8n) & 0xffn) | 0x0en)).toBe(true);
    expect(mem.read64(l1e)).toBe((base & ~BigInt(Pte.A)) | 0xe00n);
    // A misaligned word store is not emulated (the #PF goes to the guest).
    expect(run([0x66, 0x89, 0x47, 0x01], l1Va + 1n)).toBe(false);
    expect(v.cpu.rip).toBe(code);
  });
});

/**
 * The documented errors of the PV MMU and descriptor hypercalls, row by row against Xen
 * 4.19 (arch/x86/mm.c do_mmu_update / do_mmuext_op, common/page_alloc.c get_pg_owner,
 * pv/callback.c do_set_trap_table). The caller is the privileged initial domain (id 0);
 * another, unbuilt PV domain exists to be named as a foreign owner.
 */
describe("x86_64 PV hypercalls: documented errors (Xen 4.19)", () => {
  const HYPERVISOR = 0xffff830000000000n; // Xen's direct map: access_ok refuses it
  const world = () => {
    const w = setup();
    const other = w.machine.createDomain({ privileged: false, mode: "pv", vcpus: 1 });
    const mfn = BigInt(w.domain.p2m[5]); // a plain data frame of the caller
    return { ...w, other, mfn };
  };

  it("set_trap_table: a non-canonical handler is -EINVAL (entries before it stay); unreadable -EFAULT", () => {
    const { v, scratch, call, put64 } = setup();
    put64(scratch, 0x0010_0003n); // vector 3, cs 0x10
    put64(scratch + 8n, 0xffffffff80001000n);
    put64(scratch + 16n, 0x0010_0004n); // vector 4
    put64(scratch + 24n, 0x0000800000000000n); // non-canonical
    put64(scratch + 40n, 0n);
    expect(call(0, scratch)).toBe(-Errno.EINVAL);
    expect(v.trapAddr[3]).toBe(0xffffffff80001000n);
    expect(v.trapAddr[4]).toBe(0n);
    expect(call(0, HYPERVISOR)).toBe(-Errno.EFAULT);
  });

  it("mmu_update: foreigndom and request-array errors in Xen's order", () => {
    const { machine, domain, other, scratch, call, put64, get64, mfn } = world();
    put64(scratch, (mfn << 12n) | 1n); // MACHPHYS_UPDATE of an owned frame
    put64(scratch + 8n, 7n);
    const rows: [string, bigint, number, number][] = [
      ["array in Xen's range, even empty", HYPERVISOR, 0, -Errno.EFAULT],
      ["array in Xen's range", HYPERVISOR, 1, -Errno.EFAULT],
      ["own id as foreign domain", scratch, 1, -Errno.ESRCH],
      ["DOMID_INVALID", scratch, 1, -Errno.ESRCH],
      ["DOMID_IDLE", scratch, 1, -Errno.ESRCH],
      ["no such page-table owner (top half)", scratch, 1, -Errno.ESRCH],
    ];
    const dom = [0x7ff0, 0x7ff0, domain.id, 0x7ff4, 0x7fff, (0x1234 << 16) | 0x7ff0];
    rows.forEach(([what, reqs, count, rc], i) =>
      expect([what, call(1, reqs, count, 0, dom[i])]).toEqual([what, rc]),
    );
    // The page-table owner's own id + 1 is the caller: a normal batch.
    expect(call(1, scratch, 1, scratch + 0x100n, ((domain.id + 1) << 16) | 0x7ff0)).toBe(0);
    expect(get64(scratch + 0x100n)).toBe(1n);
    // MACHPHYS_UPDATE with a foreign page-table owner: -EPERM (d != pt_owner).
    expect(call(1, scratch, 1, 0, ((other.id + 1) << 16) | 0x7ff0)).toBe(-Errno.EPERM);
    // A foreign page owner with nothing to do succeeds (XSM is checked per request).
    expect(call(1, scratch, 0, 0, other.id)).toBe(0);
    // A shut-down domain still exists for get_pg_owner; a destroyed one does not.
    machine.shutdownDomain(other, ShutdownReason.Poweroff);
    expect(call(1, scratch, 0, 0, other.id)).toBe(0);
    machine.destroyDomain(other);
    expect(call(1, scratch, 0, 0, other.id)).toBe(-Errno.ESRCH);
  });

  it("mmu_update: MMU_PT_UPDATE_NO_TRANSLATE (3) is a normal checked update for a PV owner", () => {
    const { machine, scratch, call, put64, mfn } = world();
    put64(scratch, (mfn << 12n) | 0x10n | 3n);
    put64(scratch + 8n, 0x1122334455667788n);
    expect(call(1, scratch, 1, 0, 0x7ff0)).toBe(0);
    expect(machine.memory.view.getBigUint64(Number(mfn) * 4096 + 0x10, true)).toBe(
      0x1122334455667788n,
    );
  });

  it("mmuext_op: array -EFAULT, owner -ESRCH before any op; per-op -EPERM for another owner; bad vCPU mask -EINVAL", () => {
    const { other, scratch, call, put64, get64, domain } = world();
    put64(scratch, 6n); // TLB_FLUSH_LOCAL
    expect(call(26, HYPERVISOR, 0, 0, 0x7ff0)).toBe(-Errno.EFAULT);
    expect(call(26, scratch, 1, 0, domain.id)).toBe(-Errno.ESRCH);
    expect(call(26, scratch, 1, 0, 0x7ff4)).toBe(-Errno.ESRCH);
    expect(call(26, scratch, 1, 0, 0x7ff0)).toBe(0);
    // The flushes and flush_cache need the caller to be the page owner (Xen: currd != pg_owner).
    for (const cmd of [6n, 7n, 10n, 11n, 12n]) {
      put64(scratch, cmd);
      put64(scratch + 8n, 0x100000n);
      expect([cmd, call(26, scratch, 1, scratch + 0x100n, other.id)]).toEqual([cmd, -Errno.EPERM]);
      expect(get64(scratch + 0x100n)).toBe(0n);
    }
    // TLB_FLUSH_MULTI / INVLPG_MULTI with an unreadable vCPU mask: -EINVAL (not -EFAULT).
    for (const cmd of [8n, 9n]) {
      put64(scratch, cmd);
      put64(scratch + 8n, 0x100000n);
      put64(scratch + 16n, 0x7fff00000000n);
      expect(call(26, scratch, 1, 0, 0x7ff0)).toBe(-Errno.EINVAL);
      put64(scratch + 16n, scratch + 0x200n);
      expect(call(26, scratch, 1, 0, 0x7ff0)).toBe(0);
    }
  });

  it("update_va_mapping_otherdomain maps a frame of the named owner; the caller's own map refuses it", () => {
    const { machine, domain, other, v, call } = world();
    other.maxPages = 1;
    const frame = machine.allocFrames(other, 1)![0];
    const va = 0x103000n;
    const pte = (BigInt(frame) << 12n) | 0x67n; // present, writable, user, accessed, dirty
    expect(call(14, va, pte, 2)).not.toBe(0); // update_va_mapping: the caller owns no such page
    expect(call(22, va, pte, 2, 0x1234)).toBe(-Errno.ESRCH);
    expect(call(22, va, pte, 2, domain.id)).toBe(-Errno.ESRCH); // itself as foreign domain
    expect(call(22, va, pte, 2, other.id)).toBe(0);
    expect(v.translate(va, true)).toBe(frame * 4096);
    expect(call(22, va, 0, 2, 0x7ff0)).toBe(0); // DOMID_SELF: unmap
    expect(v.translate(va, false)).toBeLessThan(0);
  });

  it("descriptor tables, segment bases and callbacks: the remaining documented errors", () => {
    const { scratch, call, put64, v } = setup();
    // set_gdt: the frame list cannot be read (-EFAULT); a frame not the caller's (-EINVAL).
    expect(call(2, HYPERVISOR, 16)).toBe(-Errno.EFAULT);
    expect(call(2, 0x7fff00000000n, 16)).toBe(-Errno.EFAULT);
    put64(scratch, 0n); // machine frame 0: not the domain's
    expect(call(2, scratch, 16)).toBe(-Errno.EINVAL);
    put64(scratch, 1n << 40n); // past the end of memory
    expect(call(2, scratch, 16)).toBe(-Errno.EINVAL);
    expect(v.gdtEntries).toBe(0);
    // update_descriptor: a frame past the end of memory.
    expect(call(10, 1n << 52n, 0x00af9a000000ffffn)).toBe(-Errno.EINVAL);
    // set_segment_base: every base-taking selector refuses a non-canonical base.
    for (const which of [0, 1, 2])
      expect([which, call(25, which, 0xff00000000000000n)]).toEqual([which, -Errno.EINVAL]);
    // callback_op: an unknown command is -ENOSYS; unregistering a callback type Xen
    // does not let go of (event, failsafe, syscall, syscall32, sysenter) is -EINVAL.
    expect(call(30, 2, scratch)).toBe(-Errno.ENOSYS);
    for (const type of [0n, 1n, 2n, 5n, 7n]) {
      put64(scratch, type);
      expect([type, call(30, 1, scratch)]).toEqual([type, -Errno.EINVAL]);
    }
    put64(scratch, 3n);
    expect(call(30, 1, scratch)).toBe(-Errno.ENOSYS);
  });
});

describe("memory_op through the x86_64 arch hook", () => {
  it("memory_map and set_memory_map keep the domain's e820 map; machphys_mapping answers", () => {
    const { domain, scratch, call, put64, get64 } = setup();
    put64(scratch, 4n);
    put64(scratch + 8n, scratch + 0x100n);
    expect(call(12, MemoryOp.memory_map, scratch)).toBe(-Errno.ENOSYS);
    // xen_foreign_memory_map { domid DOMID_SELF, { nr_entries 1, buffer } }, one e820 entry.
    put64(scratch, 0x7ff0n);
    put64(scratch + 8n, 1n);
    put64(scratch + 16n, scratch + 0x100n);
    put64(scratch + 0x100n, 0x1000n);
    put64(scratch + 0x108n, 0x9e000n);
    put64(scratch + 0x110n, 1n);
    expect(call(12, MemoryOp.set_memory_map, scratch)).toBe(0);
    expect(domain.arch.memoryMap).toEqual([{ addr: 0x1000n, size: 0x9e000n, type: 1 }]);
    expect(call(12, MemoryOp.machphys_mapping, scratch)).toBe(0);
    expect(get64(scratch)).toBe(0xffff800000000000n);
  });
});

describe("xenpmu_op (vpmu.c do_xenpmu_op without a vPMU)", () => {
  it("is -EOPNOTSUPP for every op, before its argument is read (Linux: VPMU disabled)", () => {
    const { call, scratch } = setup();
    // XENPMU_mode_get 0 … XENPMU_flush 7, with a readable and an unreadable argument.
    for (let opNr = 0; opNr <= 8; opNr++) {
      expect(call(40, opNr, scratch)).toBe(-Errno.EOPNOTSUPP);
      expect(call(40, opNr, 0)).toBe(-Errno.EOPNOTSUPP);
    }
  });
});

describe("vcpu_op register_vcpu_time_memory_area (x86 do_vcpu_op)", () => {
  it("copies vCPU 0's vcpu_time_info to the address now; -EFAULT for an unreadable argument or Xen's range", () => {
    const { call, scratch, put64, get64, machine, v } = setup();
    const area = scratch + 0x200n;
    put64(scratch, area);
    expect(call(24, VcpuOp.register_vcpu_time_memory_area, 0, scratch)).toBe(0);
    const time = v.vcpuInfoAddr() + VCPU_INFO.layout(X86_64_DATA_MODEL).offsetOf("time");
    for (let i = 0n; i < 32n; i += 8n)
      expect(get64(area + i)).toBe(machine.memory.view.getBigUint64(time + Number(i), true));
    expect(get64(area) & 1n).toBe(0n);
    expect(call(24, VcpuOp.register_vcpu_time_memory_area, 0, 0x7fff00000000n)).toBe(-Errno.EFAULT);
    put64(scratch, 0xffff800000001000n);
    expect(call(24, VcpuOp.register_vcpu_time_memory_area, 0, scratch)).toBe(-Errno.EFAULT);
    put64(scratch, 0n);
    expect(call(24, VcpuOp.register_vcpu_time_memory_area, 0, scratch)).toBe(0);
  });
});
