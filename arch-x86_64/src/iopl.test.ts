/**
 * Virtual IOPL of 64-bit PV guests (Xen: physdev.c PHYSDEVOP_set_iopl, pv/iret.c,
 * pv/emul-priv-op.c iopl_ok / guest_io_okay, x86_64/entry.S create_bounce_frame):
 * set_iopl's checks, the virtual CPL (kernel 1, or 0 under VMASST_TYPE_architectural_iopl;
 * user 3), cli/sti/in/out after a #GP(0), and IOPL in iret and bounce frames.
 */
import { describe, expect, it } from "vitest";
import { Errno, Hypercall, PhysdevOp, VmAssistType } from "@hvkit/core";
import { bootedPvDomain } from "./pv-test-domain.js";
import { ioplOk, Reg } from "@hvkit/arch-x86";
import { createBounceFrame, doIret } from "./traps.js";

function setup() {
  const d = bootedPvDomain();
  const setIopl = (iopl: number): number => {
    d.machine.memory.view.setUint32(d.v.translate(d.scratch, true), iopl, true);
    return d.call(Hypercall.physdev_op, PhysdevOp.set_iopl, d.scratch);
  };
  return { ...d, setIopl };
}

describe("PHYSDEVOP_set_iopl", () => {
  it("sets the virtual IOPL in EFLAGS.IOPL's place; above 3 is -EINVAL, an unmapped argument -EFAULT", () => {
    const { v, call, setIopl } = setup();
    expect(setIopl(1)).toBe(0);
    expect(v.iopl).toBe(0x1000);
    expect(setIopl(3)).toBe(0);
    expect(v.iopl).toBe(0x3000);
    expect(setIopl(4)).toBe(-Errno.EINVAL);
    expect(v.iopl).toBe(0x3000);
    expect(call(Hypercall.physdev_op, PhysdevOp.set_iopl, 0x7000_0000_0000n)).toBe(-Errno.EFAULT);
    expect(call(Hypercall.physdev_op, 999, 0)).toBe(-Errno.ENOSYS);
  });
});

describe("iopl_ok: the virtual CPL checked against the virtual IOPL", () => {
  it("kernel has CPL 1 (0 with architectural_iopl), user CPL 3", () => {
    const { v, domain } = setup();
    const table = [0, 1, 2, 3].map((iopl) => {
      v.iopl = iopl << 12;
      v.kernelMode = true;
      domain.setVmAssist(VmAssistType.architectural_iopl, false);
      const k = ioplOk(v);
      domain.setVmAssist(VmAssistType.architectural_iopl, true);
      const k0 = ioplOk(v);
      v.kernelMode = false;
      return [k, k0, ioplOk(v)];
    });
    expect(table).toEqual([
      [false, true, false],
      [true, true, false],
      [true, true, false],
      [true, true, true],
    ]);
  });
});

describe("cli, sti, in and out after #GP(0)", () => {
  it("with IOPL too low the #GP(0) is bounced to the guest at the instruction", () => {
    const { v, gp, get64 } = setup();
    expect(gp([0xe6, 0x80])).toBeNull(); // outb %al, $0x80
    expect(v.cpu.rip).toBe(0x101000n);
    const sp = v.cpu.getReg(Reg.RSP);
    expect(get64(sp + 16n)).toBe(0n); // error code 0
  });

  it("with IOPL admitted: cli/sti retire, out is dropped, in reads all ones sized like the register", () => {
    const { v, gp, setIopl, scratch } = setup();
    const at = scratch + 0x100n;
    expect(setIopl(1)).toBe(0);
    const cases: [number[], bigint, bigint][] = [
      [[0xfa], 0x1234_5678_9abc_def0n, 0x1234_5678_9abc_def0n], // cli
      [[0xfb], 5n, 5n], // sti
      [[0xe6, 0x80], 5n, 5n], // outb %al, $0x80
      [[0x66, 0xef], 5n, 5n], // outw %ax, %dx
      [[0xe4, 0x80], 0x1234_5678_9abc_def0n, 0x1234_5678_9abc_deffn], // inb $0x80, %al
      [[0x66, 0xed], 0x1234_5678_9abc_def0n, 0x1234_5678_9abc_ffffn], // inw %dx, %ax
      [[0xe5, 0x80], 0x1234_5678_9abc_def0n, 0xffff_ffffn], // inl $0x80, %eax (zero-extends)
      [[0x48, 0xec], 0n, 0xffn], // rex.w inb %dx, %al
    ];
    for (const [code, rax, after] of cases) {
      v.cpu.setReg(Reg.RAX, rax);
      expect(gp(code), code.join(",")).toBeNull();
      expect(v.cpu.rip, code.join(",")).toBe(at + BigInt(code.length));
      expect(v.cpu.getReg(Reg.RAX), code.join(",")).toBe(after);
    }
  });

  it("other #GP(0)s from user mode are still delivered", () => {
    const { v, gp, setIopl, scratch } = setup();
    expect(setIopl(3)).toBe(0);
    v.guestTableUser = v.guestTable;
    v.kernelMode = false;
    v.kernelSp = scratch + 0x800n;
    expect(gp([0x0f, 0x09])).toBeNull(); // wbinvd
    expect(v.kernelMode).toBe(true);
    expect(v.cpu.rip).toBe(0x101000n);
  });
});

describe("IOPL through iret and bounce frames", () => {
  it("iret sets the virtual IOPL only under architectural_iopl, and never loads IOPL into the CPU", () => {
    const { v, domain, put64, scratch } = setup();
    const iret = (rflags: bigint): void => {
      const f = scratch + 0x400n;
      [0n, 0n, 0n, 0n, 0x100500n, 0xe030n, rflags, 0x300000n, 0xe02bn].forEach((x, i) =>
        put64(f + BigInt(8 * i), x),
      );
      v.cpu.setReg(Reg.RSP, f);
      v.kernelMode = true;
      doIret(v);
    };
    iret(0x3246n);
    expect(v.iopl).toBe(0);
    domain.setVmAssist(VmAssistType.architectural_iopl, true);
    iret(0x2246n);
    expect(v.iopl).toBe(0x2000);
    expect(v.cpu.rflags & 0x3000).toBe(0);
  });

  it("bounce frames report the virtual IOPL only under architectural_iopl", () => {
    const { v, domain, get64, scratch } = setup();
    v.iopl = 0x3000;
    const bounce = (): bigint => {
      v.kernelMode = true;
      v.cpu.setReg(Reg.RSP, scratch + 0x800n);
      expect(createBounceFrame(v, 0x101000n, -1, false)).toBeNull();
      return get64(v.cpu.getReg(Reg.RSP) + 32n);
    };
    expect(bounce() & 0x3000n).toBe(0n);
    domain.setVmAssist(VmAssistType.architectural_iopl, true);
    expect(bounce() & 0x3000n).toBe(0x3000n);
  });
});
