/**
 * physdev_op for PV guests, 64-bit and 32-bit alike (xen/arch/x86/physdev.c
 * `do_physdev_op`; struct physdev_set_iopl has the same layout in both). Only
 * PHYSDEVOP_set_iopl is answered: it reads `struct physdev_set_iopl` (one uint32), refuses
 * an IOPL above 3 with −EINVAL and sets the calling vCPU's virtual IOPL (there is no way
 * to read it back). hvkit has no physical devices, so every other command is −ENOSYS, as
 * Xen answers a command it does not know.
 *
 * @module
 */
import {
  Errno,
  type HypercallArgs,
  type HypercallContext,
  type ArchTypes,
  type ArchVcpu,
  PhysdevOp,
  readGuestU32,
} from "@hvkit/core";

/** The arch types physdev_op serves: a PV vCPU with a virtual IOPL. */
export interface PhysdevArchTypes extends ArchTypes {
  /** The vCPU, whose virtual IOPL set_iopl sets (EFLAGS.IOPL's place). */
  readonly vcpu: ArchVcpu & { iopl: number };
}

/** EFLAGS.IOPL's place: PHYSDEVOP_set_iopl stores the level shifted there (MASK_INSR). */
const IOPL_SHIFT = 12;

/** physdev_op(cmd, arg): `arg` is a guest address in the caller's width. */
export function physdevOp(ctx: HypercallContext<PhysdevArchTypes>, args: HypercallArgs): number {
  switch (args.u32(0)) {
    case PhysdevOp.set_iopl: {
      const iopl = readGuestU32(ctx.vcpu, args.u64(1));
      if (iopl < 0) return -Errno.EFAULT;
      if (iopl > 3) return -Errno.EINVAL;
      ctx.vcpu.arch.iopl = iopl << IOPL_SHIFT;
      return 0;
    }
    default:
      return -Errno.ENOSYS;
  }
}
