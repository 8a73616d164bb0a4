import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  createMachine,
  DomctlCmd,
  Hypercall,
  HypercallArgs,
  MemoryOp,
  MEMOP_EXTENT_SHIFT,
  PlatformOp,
  VmAssistCmd,
  VmAssistType,
  type ArchVcpu,
  type Vcpu,
} from "@hvkit/core";
import { idleArch } from "@hvkit/core/testing";
import {
  describeHypercall,
  hypercallErrno,
  hypercallName,
  hypercallResult,
  hypercallSubOp,
} from "./hypercall-decoder.js";

/** A vCPU of a 1 MiB machine whose guest addresses are machine addresses (none beyond). */
function vcpuOf(wordBits: 32 | 64): Vcpu {
  const arch = {
    ...idleArch(`decoder-${wordBits}`),
    wordBits,
    hypercalls: () => [
      { number: 48, name: "mca", handler: () => 0, modes: ["pv" as const], xsm: "none" as const },
    ],
    createVcpu: () =>
      ({ translate: (va: bigint) => (va < 0x100000n ? Number(va) : -1) }) as unknown as ArchVcpu,
  };
  const machine = createMachine(container.createChildContainer(), { arch, memoryMiB: 1 });
  return machine.createDomain({ privileged: true, mode: "pv", vcpus: 1 }).vcpus[0];
}

function args(...values: (number | bigint)[]): HypercallArgs {
  const a = new HypercallArgs();
  values.forEach((v, i) => {
    const x = BigInt.asUintN(64, BigInt(v));
    a.set(i, Number(x & 0xffffffffn), Number(x >> 32n));
  });
  return a;
}

describe("describeHypercall", () => {
  const v = vcpuOf(64);

  it("names the sub-operation given in a register, with a memory_op continuation's extent", () => {
    expect(describeHypercall(v, Hypercall.memory_op, args(MemoryOp.populate_physmap, 0x2000))).toBe(
      "memory_op(XENMEM_populate_physmap, arg=0x2000 {nr_extents=0, extent_order=0, domid=0})",
    );
    const continued = (5 << MEMOP_EXTENT_SHIFT) | MemoryOp.decrease_reservation;
    expect(describeHypercall(v, Hypercall.memory_op, args(continued, 0x2000))).toBe(
      "memory_op(XENMEM_decrease_reservation start_extent=5, arg=0x2000 {nr_extents=0, extent_order=0, domid=0})",
    );
    expect(
      describeHypercall(
        v,
        Hypercall.vm_assist,
        args(VmAssistCmd.enable, VmAssistType.writable_pagetables),
      ),
    ).toBe("vm_assist(VMASST_CMD_enable, type=VMASST_TYPE_writable_pagetables)");
    expect(describeHypercall(v, Hypercall.vcpu_op, args(77, 1, 0))).toBe(
      "vcpu_op(VCPUOP_77, vcpuid=1, arg=0x0)",
    );
  });

  it("reads a struct-borne sub-operation from guest memory; none when the struct is unmapped", () => {
    v.machine.memory.write32(0x3000, DomctlCmd.getdomaininfo);
    v.machine.memory.write32(0x3100, PlatformOp.settime64);
    v.machine.memory.write32(0x3200, 99);
    expect(describeHypercall(v, Hypercall.domctl, args(0x3000))).toBe(
      "domctl(u_domctl=0x3000 [XEN_DOMCTL_getdomaininfo])",
    );
    expect(describeHypercall(v, Hypercall.platform_op, args(0x3100))).toBe(
      "platform_op(u_xenpf_op=0x3100 [XENPF_settime64])",
    );
    expect(describeHypercall(v, Hypercall.sysctl, args(0x3200))).toBe(
      "sysctl(u_sysctl=0x3200 [XEN_SYSCTL_99])",
    );
    expect(describeHypercall(v, Hypercall.domctl, args(0x7fff0000))).toBe(
      "domctl(u_domctl=0x7fff0000)",
    );
    expect(hypercallSubOp(v, Hypercall.domctl, args(0x7fff0000))).toBeNull();
    // A batch of no requests has no command to show.
    expect(describeHypercall(v, Hypercall.mmuext_op, args(0x3000, 0, 0, 0x7ff0))).toBe(
      "mmuext_op(uops=0x3000, count=0, pdone=0x0, foreigndom=DOMID_SELF)",
    );
    v.machine.memory.write32(0x3300, 2); // MMU_PT_UPDATE_PRESERVE_AD in ptr's low bits
    expect(hypercallSubOp(v, Hypercall.mmu_update, args(0x3300, 1, 0, 3))).toBe(
      "MMU_PT_UPDATE_PRESERVE_AD",
    );
  });

  it("shows the fields of a few argument structs, as they are after the call", () => {
    const m = v.machine.memory;
    m.write32(0x4000, 0); // evtchn_bind_virq { virq = VIRQ_timer, vcpu = 1, port = 5 }
    m.write32(0x4004, 1);
    m.write32(0x4008, 5);
    expect(describeHypercall(v, Hypercall.event_channel_op, args(1, 0x4000))).toBe(
      "event_channel_op(EVTCHNOP_bind_virq, arg=0x4000 {virq=VIRQ_timer, vcpu=1, port=5})",
    );
    m.write32(0x4100, 5);
    expect(describeHypercall(v, Hypercall.sched_op, args(2, 0x4100))).toBe(
      "sched_op(SCHEDOP_shutdown, arg=0x4100 {reason=SHUTDOWN_soft_reset})",
    );
    m.write64(0x4200, 1_000_000_123n); // vcpu_set_singleshot_timer, after vcpu_op's vcpuid
    m.write32(0x4208, 1);
    expect(describeHypercall(v, Hypercall.vcpu_op, args(8, 0, 0x4200))).toBe(
      "vcpu_op(VCPUOP_set_singleshot_timer, vcpuid=0, arg=0x4200 {timeout_abs_ns=0x3b9aca7b, flags=1})",
    );
    m.write16(0x4300, 0x7ff0); // evtchn_alloc_unbound { dom = DOMID_SELF, remote_dom = 0 }
    m.write16(0x4302, 0);
    expect(describeHypercall(v, Hypercall.event_channel_op, args(6, 0x4300))).toMatch(
      /^event_channel_op\(EVTCHNOP_alloc_unbound, arg=0x4300 \{dom=DOMID_SELF, remote_dom=0, port=\d+\}\)$/,
    );
    // Unreadable, or a sub-operation whose struct is not shown: the pointer alone.
    expect(describeHypercall(v, Hypercall.sched_op, args(2, 0x7fff0000))).toBe(
      "sched_op(SCHEDOP_shutdown, arg=0x7fff0000)",
    );
    expect(describeHypercall(v, Hypercall.event_channel_op, args(5, 0x4000))).toBe(
      "event_channel_op(EVTCHNOP_status, arg=0x4000)",
    );
  });

  it("shows domids by name, counts in decimal, pointers in hex", () => {
    expect(describeHypercall(v, Hypercall.grant_table_op, args(2, 0xffff8000_00001000n, 12))).toBe(
      "grant_table_op(GNTTABOP_setup_table, uop=0xffff800000001000, count=12)",
    );
    expect(describeHypercall(v, Hypercall.dm_op, args(3, 2, 0x4000))).toBe(
      "dm_op(domid=3, nr_bufs=2, bufs=0x4000)",
    );
    expect(describeHypercall(v, Hypercall.set_timer_op, args(1_000_000_000_123n))).toBe(
      "set_timer_op(timeout=1000000000123)",
    );
    expect(describeHypercall(v, Hypercall.iret, args())).toBe("iret()");
  });

  it("joins the register pairs of a 32-bit guest's 64-bit values", () => {
    const v32 = vcpuOf(32);
    expect(
      describeHypercall(v32, Hypercall.update_va_mapping, args(0xc0001000, 0x23067, 0x80000000, 2)),
    ).toBe("update_va_mapping(va=0xc0001000, val=0x8000000000023067, flags=0x2)");
    expect(describeHypercall(v32, Hypercall.set_timer_op, args(0x2, 0x1))).toBe(
      "set_timer_op(timeout=4294967298)",
    );
    expect(
      describeHypercall(v32, Hypercall.set_callbacks, args(0x61, 0xc0100000, 0x61, 0xc0100100)),
    ).toBe(
      "set_callbacks(event_selector=0x61, event_address=0xc0100000, failsafe_selector=0x61, failsafe_address=0xc0100100)",
    );
  });

  it("shows an arch's own number and an unknown one with their six registers", () => {
    expect(describeHypercall(v, 48, args(1, 2))).toBe("mca(0x1, 0x2, 0x0, 0x0, 0x0, 0x0)");
    expect(describeHypercall(v, 60, args(0xff))).toBe(
      "hypercall_60(0xff, 0x0, 0x0, 0x0, 0x0, 0x0)",
    );
  });
});

describe("hypercall names and results", () => {
  it("names a call by the machine's table, else by xen.h, else by number", () => {
    const v = vcpuOf(64);
    expect(hypercallName(v.machine, 48)).toBe("mca");
    expect(hypercallName(v.machine, Hypercall.memory_op)).toBe("memory_op");
    // Not in the table (no handler: -ENOSYS), still named as xen.h names it.
    expect(v.machine.hypercalls[Hypercall.kexec_op]).toBeUndefined();
    expect(hypercallName(v.machine, Hypercall.kexec_op)).toBe("kexec_op");
    expect(hypercallName(v.machine, 60)).toBe("hypercall_60");
    expect(hypercallName(v.machine, -1)).toBe("hypercall_out_of_range");
  });

  it("gives errno.h's names for failures and values for successes", () => {
    expect(hypercallResult(0)).toBe("0");
    expect(hypercallResult(65535)).toBe("65535");
    expect(hypercallResult(0x40013)).toBe("0x40013");
    expect(hypercallResult(-22)).toBe("-EINVAL");
    expect(hypercallResult(-85n)).toBe("-ERESTART");
    expect(hypercallResult(-38n)).toBe("-ENOSYS");
    expect(hypercallResult(-200)).toBe("-200");
    expect(hypercallResult(-5000)).toBe("-5000");
    expect(hypercallResult(1n << 63n)).toBe("0x8000000000000000");
    expect(hypercallErrno(0)).toBeNull();
    expect(hypercallErrno(7n)).toBeNull();
    expect(hypercallErrno(-110)).toBe("-ETIMEDOUT");
    expect(hypercallErrno(-14n)).toBe("-EFAULT");
    expect(hypercallErrno(-200)).toBe("-200");
  });
});
