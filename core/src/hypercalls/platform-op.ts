/**
 * platform_op (xen/arch/x86/platform_hypercall.c `do_platform_op`): the control domain's
 * view of the physical platform. `struct xen_platform_op` (public/platform.h) is `cmd`,
 * `interface_version` and a 128-byte union at offset 8, the same in 32- and 64-bit guests,
 * in the guest's byte order (its data model's).
 *
 * Order of checks as Xen's: an unreadable argument −EFAULT, an interface version other than
 * {@link XENPF_INTERFACE_VERSION} −EACCES, then XSM (XSM_PRIV: −EPERM for a domU). hvkit's
 * machine is one physical CPU without firmware tables (no BIOS data, no EDD, no EDID, no
 * EFI, no ACPI), and the commands answer as Xen does on such a machine:
 * - settime32 / settime64: sets the wall clock (`do_settime`, see `setWallclock`); settime64
 *   with a non-zero `mbz` −EINVAL.
 * - firmware_info: disk info and MBR signatures −ESRCH (no EDD entries), VBE EDID −ESRCH
 *   (none read), EFI info −ENOSYS (`efi_get_info` on a non-EFI boot), keyboard shift flags
 *   0 for index 0 (−ESRCH for another index), an unknown type −EINVAL.
 * - get_cpuinfo: pCPU 0 online, APIC id 0 and ACPI id ~0 (no MADT: `acpi_get_processor_id`
 *   finds none); any other pCPU flagged invalid; `max_present` 0.
 * Every other command is −ENOSYS (Xen's default case).
 *
 * @module
 */
import { PlatformOp, XENPF_INTERFACE_VERSION } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import { copyFromGuest, copyToGuest } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";
import { setWallclock } from "../time.js";

/** firmware_info types (`XEN_FW_*`, platform.h). */
export const FirmwareInfoType = {
  /** EDD disk parameters of BIOS disk `index`. */
  DISK_INFO: 1,
  /** MBR signature of BIOS disk `index`. */
  DISK_MBR_SIGNATURE: 2,
  /** VBE DDC (EDID) information. */
  VBEDDC_INFO: 3,
  /** EFI information (version, config table, vendor, memory, ...). */
  EFI_INFO: 4,
  /** The keyboard shift flags the BIOS reported at boot. */
  KBD_SHIFT_FLAGS: 5,
} as const;

/** `xenpf_pcpuinfo.flags`: the pCPU is online. */
export const XEN_PCPU_FLAGS_ONLINE = 1;
/** `xenpf_pcpuinfo.flags`: no such pCPU. */
export const XEN_PCPU_FLAGS_INVALID = 2;

/** sizeof(struct xen_platform_op): cmd, interface_version, the 128-byte union. */
const OP_SIZE = 136;
/** Offset of the union. */
const U = 8;

const op = new Uint8Array(OP_SIZE);
const view = new DataView(op.buffer);

/** `platform_op(op)`: `op` is the guest address of a `struct xen_platform_op`. */
export function platformOp(ctx: HypercallContext, args: HypercallArgs): number {
  const arg = args.u64(0);
  if (copyFromGuest(ctx.vcpu, arg, op) !== 0) return -Errno.EFAULT;
  const le = ctx.machine.arch.dataModel.littleEndian;
  const cmd = view.getUint32(0, le);
  if (view.getUint32(4, le) !== XENPF_INTERFACE_VERSION) return -Errno.EACCES;
  const denied = ctx.machine.xsm.platformOp(ctx.domain, cmd);
  if (denied !== 0) return denied;
  switch (cmd) {
    case PlatformOp.settime32:
      setWallclock(
        ctx.machine,
        BigInt(view.getUint32(U, le)),
        view.getUint32(U + 4, le),
        view.getBigUint64(U + 8, le),
      );
      return 0;
    case PlatformOp.settime64:
      if (view.getUint32(U + 12, le) !== 0) return -Errno.EINVAL;
      setWallclock(
        ctx.machine,
        view.getBigUint64(U, le),
        view.getUint32(U + 8, le),
        view.getBigUint64(U + 16, le),
      );
      return 0;
    case PlatformOp.firmware_info:
      return firmwareInfo(ctx, arg);
    case PlatformOp.get_cpuinfo:
      return cpuInfo(ctx, arg);
    default:
      return -Errno.ENOSYS;
  }
}

function firmwareInfo(ctx: HypercallContext, arg: bigint): number {
  const le = ctx.machine.arch.dataModel.littleEndian;
  const type = view.getUint32(U, le);
  const index = view.getUint32(U + 4, le);
  switch (type) {
    case FirmwareInfoType.DISK_INFO:
    case FirmwareInfoType.DISK_MBR_SIGNATURE:
    case FirmwareInfoType.VBEDDC_INFO:
      return -Errno.ESRCH;
    case FirmwareInfoType.EFI_INFO:
      return -Errno.ENOSYS;
    case FirmwareInfoType.KBD_SHIFT_FLAGS:
      if (index !== 0) return -Errno.ESRCH;
      op[U + 8] = 0;
      return copyToGuest(ctx.vcpu, arg + BigInt(U + 8), op, U + 8, 1) !== 0 ? -Errno.EFAULT : 0;
    default:
      return -Errno.EINVAL;
  }
}

function cpuInfo(ctx: HypercallContext, arg: bigint): number {
  const le = ctx.machine.arch.dataModel.littleEndian;
  const cpu = view.getUint32(U, le);
  if (cpu === 0) {
    view.setUint32(U + 8, XEN_PCPU_FLAGS_ONLINE, le);
    view.setUint32(U + 12, 0, le);
    view.setUint32(U + 16, 0xffffffff, le);
  } else {
    view.setUint32(U + 8, XEN_PCPU_FLAGS_INVALID, le);
  }
  view.setUint32(U + 4, 0, le);
  return copyToGuest(ctx.vcpu, arg + BigInt(U), op, U, 20) !== 0 ? -Errno.EFAULT : 0;
}
