/**
 * rdmsr / wrmsr of a 64-bit PV guest as Xen 4.19 answers them on hvkit's Intel host
 * (msr.c guest_rdmsr / guest_wrmsr, pv/emul-priv-op.c read_msr / write_msr, vmce.c,
 * traps.c guest_wrmsr_xen): values, #GP for the rest, msr_relaxed from createdomain's
 * arch config, the "faking RDMSR" of a guest without a #GP handler, CPUID faulting and the
 * hypercall-page MSR.
 */
import { describe, expect, it } from "vitest";
import {
  DomctlCmd,
  Errno,
  Hypercall,
  NS_PER_INSTRUCTION,
  XEN_DOMCTL_CREATEDOMAIN,
  xenDomctlGrantVersion,
} from "@hvkit/core";
import {
  PageType,
  Reg,
  Vector,
  X86_64_DATA_MODEL,
  XEN_X86_EMU_PIT,
  XEN_X86_MSR_RELAXED,
} from "@hvkit/arch-x86";
import { GUEST_MCG_CAP, PvMsr as Msr, readMsr, writeMsr, XEN_MSR_PAT } from "@hvkit/arch-x86";
import { bootedPvDomain } from "./pv-test-domain.js";

function setup() {
  const d = bootedPvDomain();
  d.v.trapAddr[Vector.GP] = 0x101000n;
  /** rdmsr through the #GP path: the value, or null when the #GP went to the guest. */
  const rdmsr = (index: number): bigint | null => {
    d.v.cpu.setReg(Reg.RCX, BigInt(index));
    expect(d.gp([0x0f, 0x32])).toBeNull();
    if (d.v.cpu.rip !== d.scratch + 0x102n) return null;
    return (d.v.cpu.getReg(Reg.RDX) << 32n) | d.v.cpu.getReg(Reg.RAX);
  };
  /** wrmsr through the #GP path: true when taken. */
  const wrmsr = (index: number, val: bigint): boolean => {
    d.v.cpu.setReg(Reg.RCX, BigInt(index));
    d.v.cpu.setReg(Reg.RAX, val & 0xffffffffn);
    d.v.cpu.setReg(Reg.RDX, val >> 32n);
    expect(d.gp([0x0f, 0x30])).toBeNull();
    return d.v.cpu.rip === d.scratch + 0x102n;
  };
  return { ...d, rdmsr, wrmsr };
}

describe("rdmsr", () => {
  it("gives the values Xen gives a PV guest on an Intel host", () => {
    const { rdmsr, v } = setup();
    v.cpu.fsBase = 0x7000n;
    v.inactiveGsBase = 0x9000n;
    const table: [number, bigint][] = [
      [Msr.APIC_BASE, 0xfee00900n], // enabled, default base, BSP on vCPU 0
      [Msr.FEATURE_CONTROL, 1n],
      [Msr.PLATFORM_ID, 0n],
      [Msr.UCODE_REV, 0n],
      [Msr.PLATFORM_INFO, 0x80000000n],
      [Msr.MISC_FEATURES_ENABLES, 0n],
      [Msr.MCG_CAP, 0x1000c02n],
      [Msr.MCG_STATUS, 0n],
      [Msr.MCG_CTL, 0n],
      [Msr.MC0_CTL, 0xffffffffffffffffn],
      [Msr.MC0_CTL + 4, 0xffffffffffffffffn], // bank 1's CTL
      [Msr.MC0_CTL + 8, 0n], // bank 2 does not exist: 0
      [0x47f, 0n],
      [Msr.MC0_CTL2 + 31, 0n],
      [0x198, 0n], // PERF_STATUS
      [0x19c, 0n], // THERM_STATUS
      [Msr.MISC_ENABLE, 0x811809n],
      [Msr.PAT, 0x0000050100070406n],
      [0x345, 0n], // PERF_CAPABILITIES
      [0xc1, 0n], // PERFCTR0, vPMU off
      [0x38f, 0n], // PERF_GLOBAL_CTRL
      [Msr.XEN_HYPERCALL_PAGE, 0n],
      [Msr.EFER, 0xd01n],
      [Msr.FS_BASE, 0x7000n],
      [Msr.SHADOW_GS_BASE, 0x9000n],
      [0xc001001f, 0n], // AMD64_NB_CFG, even on Intel
    ];
    for (const [index, want] of table) expect(rdmsr(index), index.toString(16)).toBe(want);
    expect(GUEST_MCG_CAP).toBe(0x1000c02n);
    expect(XEN_MSR_PAT).toBe(0x0000050100070406n);
  });

  it("#GP for MSRs Xen withholds or does not know, MSR_DEBUGCTL included", () => {
    const { rdmsr } = setup();
    for (const index of [
      Msr.DEBUGCTL,
      Msr.SPEC_CTRL,
      Msr.ARCH_CAPABILITIES,
      0x49, // PRED_CMD: write-only
      0x122, // TSX_CTRL
      Msr.MCG_EXT_CTL, // no LMCE
      0x802, // x2APIC: HVM only
      0xda0, // XSS
      0xc0000103, // TSC_AUX: no RDTSCP
      0xc0010015, // K8_HWCR: AMD only
      0xc0010200, // AMD family 15h PMU
      0x40000001,
      0x40000200,
      0x174, // SYSENTER_CS
      0xc0000081, // STAR
      0x12345678,
    ]) {
      expect(rdmsr(index), index.toString(16)).toBeNull();
    }
  });

  it("APIC_BASE has the BSP bit on vCPU 0 only; the TSC is the CPU's", () => {
    const { v, machine } = setup();
    v.cpu.tscBase = 123456;
    expect(readMsr(v, Msr.TSC)).toBe(123456n);
    const d = machine.createDomain({ privileged: false, mode: "pv", vcpus: 2 });
    expect(readMsr(d.vcpus[0].arch, Msr.APIC_BASE)).toBe(0xfee00900n);
    expect(readMsr(d.vcpus[1].arch, Msr.APIC_BASE)).toBe(0xfee00800n);
  });

  it("the TSC keeps counting across an exception the PV layer handles within one run", () => {
    const { v, putCode, scratch, machine } = setup();
    const at = scratch + 0x300n;
    putCode(at, [0x90, 0x90, 0x90, 0x0f, 0x0b]); // nop x3; ud2
    putCode(scratch + 0x400n, [0x0f, 0x31, 0xf4]); // #UD handler: rdtsc; hlt
    v.trapAddr[Vector.UD] = scratch + 0x400n;
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    v.cpu.rip = at;
    const start = BigInt(machine.clock.now);
    v.run(100);
    expect(v.idleRequested || v.cpu.rip === scratch + 0x403n).toBe(true);
    const tsc = (v.cpu.getReg(Reg.RDX) << 32n) | v.cpu.getReg(Reg.RAX);
    expect(tsc).toBe(start + 3n * BigInt(NS_PER_INSTRUCTION));
  });

  it("without a #GP handler a read the host can do is faked as 0, never in Xen's 0x4000xxxx range", () => {
    const { v } = setup();
    v.trapAddr[Vector.GP] = 0n;
    expect(readMsr(v, Msr.DEBUGCTL)).toBe(0n);
    expect(readMsr(v, 0x174)).toBe(0n); // SYSENTER_CS
    expect(readMsr(v, Msr.SPEC_CTRL)).toBeNull(); // the host has no SPEC_CTRL either
    expect(readMsr(v, 0x40000001)).toBeNull();
    v.trapAddr[Vector.GP] = 0x101000n;
    expect(readMsr(v, Msr.DEBUGCTL)).toBeNull();
  });
});

describe("wrmsr", () => {
  it("EFER takes its own value back only; segment bases take canonical values", () => {
    const { v, wrmsr } = setup();
    expect(wrmsr(Msr.EFER, 0xd01n)).toBe(true);
    expect(wrmsr(Msr.EFER, 0x501n)).toBe(false);
    expect(wrmsr(Msr.GS_BASE, 0xffff800000001000n)).toBe(true);
    expect(v.cpu.gsBase).toBe(0xffff800000001000n);
    expect(wrmsr(Msr.FS_BASE, 0x800000000000n)).toBe(false);
    expect(wrmsr(Msr.SHADOW_GS_BASE, 0x5000n)).toBe(true);
    expect(v.inactiveGsBase).toBe(0x5000n);
  });

  it("vMCE: MCG_STATUS and MCi_CTL2 are kept; MCi_STATUS/ADDR/MISC take only 0; CTL, CAP and absent banks ignore writes", () => {
    const { v, wrmsr, rdmsr } = setup();
    expect(wrmsr(Msr.MCG_STATUS, 5n)).toBe(true);
    expect(rdmsr(Msr.MCG_STATUS)).toBe(5n);
    expect(wrmsr(Msr.MC0_CTL2 + 1, 0x4000_0001n)).toBe(true);
    expect(rdmsr(Msr.MC0_CTL2 + 1)).toBe(0x4000_0001n);
    expect(wrmsr(Msr.MC0_CTL + 1, 1n)).toBe(false); // MC0_STATUS
    expect(wrmsr(Msr.MC0_CTL + 6, 1n)).toBe(false); // MC1_ADDR
    v.msrs.mciStatus[1] = 0xbe00000000000000n;
    expect(rdmsr(Msr.P5_MC_TYPE)).toBe(0xbe00000000000000n); // bank 1's STATUS
    expect(wrmsr(Msr.MC0_CTL + 4, 0n)).toBe(true); // MC1_CTL
    expect(rdmsr(Msr.MC0_CTL + 4)).toBe(0xffffffffffffffffn); // CTL stays all ones
    expect(wrmsr(Msr.MC0_CTL + 5, 0n)).toBe(true); // MC1_STATUS cleared
    expect(v.msrs.mciStatus[1]).toBe(0n);
    expect(wrmsr(Msr.MCG_CAP, 0n)).toBe(true);
    expect(rdmsr(Msr.MCG_CAP)).toBe(GUEST_MCG_CAP);
    expect(wrmsr(Msr.MC0_CTL + 9, 7n)).toBe(true); // bank 2: ignored
    expect(wrmsr(Msr.MCG_EXT_CTL, 0n)).toBe(false);
  });

  it("read-only and write-discard MSRs", () => {
    const { wrmsr, rdmsr } = setup();
    expect(wrmsr(Msr.UCODE_REV, 0n)).toBe(true); // Intel's "write 0, cpuid, read"
    expect(wrmsr(Msr.UCODE_REV, 1n)).toBe(false);
    expect(wrmsr(Msr.PLATFORM_INFO, 0x80000000n)).toBe(false);
    expect(wrmsr(Msr.PLATFORM_ID, 0n)).toBe(false);
    expect(wrmsr(Msr.MISC_ENABLE, 0n)).toBe(true); // dropped
    expect(rdmsr(Msr.MISC_ENABLE)).toBe(0x811809n);
    expect(wrmsr(0x199, 0x1234n)).toBe(true); // PERF_CTL
    expect(wrmsr(0xe7, 1n)).toBe(true); // MPERF
    expect(wrmsr(0x186, 0x4300c0n)).toBe(true); // EVNTSEL0, vPMU off
    expect(rdmsr(0x186)).toBe(0n);
    expect(wrmsr(Msr.PAT, XEN_MSR_PAT)).toBe(false);
    expect(wrmsr(Msr.DEBUGCTL, 0n)).toBe(false);
    expect(wrmsr(Msr.TSC, 0n)).toBe(false);
    expect(wrmsr(0x40000001, 0n)).toBe(false);
  });

  it("MISC_FEATURES_ENABLES takes the CPUID-faulting bit only", () => {
    const { v, wrmsr, rdmsr } = setup();
    expect(wrmsr(Msr.MISC_FEATURES_ENABLES, 2n)).toBe(false);
    expect(wrmsr(Msr.MISC_FEATURES_ENABLES, 1n)).toBe(true);
    expect(v.msrs.cpuidFaulting).toBe(true);
    expect(rdmsr(Msr.MISC_FEATURES_ENABLES)).toBe(1n);
  });
});

describe("the hypercall-page MSR (0x40000000)", () => {
  it("fills the named frame with the hypercall stubs", () => {
    const { v, wrmsr, machine, scratch } = setup();
    const mfn = v.translate(scratch + 0x1000n, false) >> 12;
    expect(mfn).toBeGreaterThan(0);
    const pa = mfn * 4096;
    machine.memory.bytes.fill(0, pa, pa + 4096);
    const types = machine.memory.frameTable.typeCount[mfn];
    expect(wrmsr(Msr.XEN_HYPERCALL_PAGE, BigInt(mfn) << 12n)).toBe(true);
    const bytes = machine.memory.bytes;
    expect(Array.from(bytes.subarray(pa + 32 * 18, pa + 32 * 18 + 10))).toEqual([
      0x51, 0x41, 0x53, 0xb8, 18, 0, 0, 0, 0x0f, 0x05,
    ]);
    expect(bytes[pa + 4095]).toBe(0xcc);
    expect(machine.memory.frameTable.typeCount[mfn]).toBe(types); // the writable type was dropped
  });

  it("#GP for a page index, a page table, another domain's frame or a frame past memory", () => {
    const { v, wrmsr, machine, layout, scratch } = setup();
    const mfn = v.translate(scratch + 0x1000n, false) >> 12;
    expect(wrmsr(Msr.XEN_HYPERCALL_PAGE, (BigInt(mfn) << 12n) | 1n)).toBe(false);
    const l4 = Number(layout.rootMfn);
    expect(machine.memory.frameTable.type[l4]).toBe(PageType.L4);
    expect(wrmsr(Msr.XEN_HYPERCALL_PAGE, BigInt(l4) << 12n)).toBe(false);
    const [xen] = machine.allocXenFrames(1)!;
    expect(wrmsr(Msr.XEN_HYPERCALL_PAGE, BigInt(xen) << 12n)).toBe(false);
    expect(wrmsr(Msr.XEN_HYPERCALL_PAGE, 1n << 50n)).toBe(false);
  });
});

describe("CPUID faulting", () => {
  it("guest user mode's cpuid is #GP(0) while MISC_FEATURES_ENABLES.CPUID_FAULTING is set; the kernel's is answered", () => {
    const { v, putCode, scratch } = setup();
    const at = scratch + 0x300n;
    putCode(at, [0x0f, 0xa2, 0x0f, 0xa2]); // cpuid; cpuid
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    expect(writeMsr(v, Msr.MISC_FEATURES_ENABLES, 1n)).toBe(true);
    v.cpu.setReg(Reg.RAX, 0n);
    v.cpu.rip = at;
    v.run(1);
    expect(v.cpu.rip).toBe(at + 2n);
    expect(v.cpu.getReg(Reg.RBX)).toBe(0x756e6547n); // "Genu"
    v.guestTableUser = v.guestTable;
    v.toggleGuestMode();
    v.kernelSp = scratch + 0x800n;
    v.run(1);
    expect(v.kernelMode).toBe(true);
    expect(v.cpu.rip).toBe(0x101000n);
    // The frame: rcx, r11, error code 0, rip of the cpuid.
    const rsp = v.cpu.getReg(Reg.RSP);
    const get = (i: number) =>
      v.machine.memory.view.getBigUint64(v.translate(rsp + BigInt(8 * i), false), true);
    expect(get(2)).toBe(0n);
    expect(get(3)).toBe(at + 2n);
  });

  it('the forced form (ud2; .ascii "xen"; cpuid) from user mode faults at the cpuid', () => {
    const { v, putCode, scratch } = setup();
    const at = scratch + 0x300n;
    putCode(at, [0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2]);
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    v.msrs.miscFeaturesEnables = 1n;
    v.guestTableUser = v.guestTable;
    v.toggleGuestMode();
    v.kernelSp = scratch + 0x800n;
    v.cpu.rip = at;
    v.run(1);
    expect(v.cpu.rip).toBe(0x101000n);
    const rsp = v.cpu.getReg(Reg.RSP);
    expect(v.machine.memory.view.getBigUint64(v.translate(rsp + 24n, false), true)).toBe(at + 5n);
  });
});

describe("msr_relaxed (XEN_X86_MSR_RELAXED) from domctl createdomain", () => {
  /** createdomain from dom0 with this arch config; returns the result and the new domain. */
  function create(d: ReturnType<typeof setup>, emulationFlags: number, miscFlags: number) {
    const l = XEN_DOMCTL_CREATEDOMAIN.layout(X86_64_DATA_MODEL);
    const at = d.scratch + 0x2000n;
    const pa = d.v.translate(at, true);
    const view = d.machine.memory.view;
    new Uint8Array(view.buffer, pa, 144).fill(0);
    view.setUint32(pa, DomctlCmd.createdomain, true);
    view.setUint32(pa + 4, 0x17, true); // XEN_DOMCTL_INTERFACE_VERSION
    const u = pa + 16; // the union
    l.set(view, u, "max_vcpus", 1);
    l.set(view, u, "max_grant_frames", -1);
    l.set(view, u, "max_maptrack_frames", -1);
    l.set(view, u, "grant_opts", xenDomctlGrantVersion(2));
    l.set(view, u, "arch.emulation_flags", emulationFlags);
    l.set(view, u, "arch.misc_flags", miscFlags);
    const rc = d.call(Hypercall.domctl, at);
    const id = view.getUint16(pa + 8, true);
    return { rc, domain: rc === 0 ? d.machine.domains.get(id)! : null };
  }

  it("unknown misc_flags are -EINVAL; emulation flags other than none or the PIT -EINVAL / -EOPNOTSUPP", () => {
    const d = setup();
    const before = d.machine.domains.size;
    expect(create(d, 0, 2).rc).toBe(-Errno.EINVAL);
    expect(create(d, 0x800, 0).rc).toBe(-Errno.EINVAL);
    expect(create(d, 1, 0).rc).toBe(-Errno.EOPNOTSUPP); // LAPIC
    expect(d.machine.domains.size).toBe(before);
    const pit = create(d, XEN_X86_EMU_PIT, 0);
    expect(pit.rc).toBe(0);
    expect(pit.domain!.arch.msrRelaxed).toBe(false);
  });

  it("a relaxed domain reads MSRs the host has as 0 and drops writes; withheld and unknown ones still #GP", () => {
    const d = setup();
    const { rc, domain } = create(d, 0, XEN_X86_MSR_RELAXED);
    expect(rc).toBe(0);
    expect(domain!.arch.msrRelaxed).toBe(true);
    const u = domain!.vcpus[0].arch;
    u.trapAddr[Vector.GP] = 0x1000n;
    expect(readMsr(u, Msr.DEBUGCTL)).toBe(0n);
    expect(writeMsr(u, Msr.DEBUGCTL, 3n)).toBe(true);
    expect(readMsr(u, 0x174)).toBe(0n);
    expect(writeMsr(u, Msr.PAT, 0n)).toBe(true);
    expect(readMsr(u, Msr.PAT)).toBe(XEN_MSR_PAT);
    expect(readMsr(u, Msr.SPEC_CTRL)).toBeNull();
    expect(readMsr(u, 0x12345678)).toBeNull();
    expect(writeMsr(u, 0x12345678, 0n)).toBe(false);
    expect(writeMsr(u, Msr.EFER, 0n)).toBe(false);
    // dom0 is not relaxed.
    expect(readMsr(d.v, Msr.DEBUGCTL)).toBeNull();
  });
});
