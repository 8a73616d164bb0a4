/**
 * multicall(call_list, nr_calls) (xen/common/multicall.c `do_multicall`, x86
 * `pv_do_multicall_call`): runs an array of `multicall_entry { op, result, args[6] }` in
 * order, each through the machine's dispatcher (so each is checked as if made directly:
 * −ENOSYS for an unknown number, the XSM hook), writing each return value into its
 * entry's `result` (only that field is written back).
 *
 * - A multicall inside a multicall is refused: that entry's result is −EINVAL (Xen's
 *   `_MCSF_in_multicall`), the outer batch goes on.
 * - A list refused by `guest_handle_okay` (see below) is −EFAULT before any entry runs,
 *   even with nr_calls 0.
 * - An entry that cannot be read stops the batch with −EFAULT; so does a result that
 *   cannot be written back.
 * - An `iret` entry ends the batch and its result is the multicall's return value (x86
 *   PV mc_exit).
 * - Otherwise returns 0: failures of individual calls are only in their results.
 * Only args[0..4] reach the handlers, as in Xen (no hypercall takes six arguments).
 *
 * `nr_calls` is 32 bits wide, as in Xen 4.19, the version hvkit reports (`uint32_t
 * nr_calls` in do_multicall and hypercall-defs.c): the register's upper half is ignored,
 * so 2^32 + 1 means one call. Xen 4.20 widened it to `unsigned long`.
 *
 * @module
 */
import { Hypercall } from "../abi/numbers.js";
import { MULTICALL_ENTRY } from "../abi/xen.js";
import { Errno } from "../errno.js";
import { readGuestStruct, StructBuffer, writeGuestField } from "../guest-memory.js";
import { HypercallArgs, type HypercallContext } from "../hypercall.js";
import type { Vcpu } from "../vcpu.js";

const entry = new StructBuffer(64);
const subArgs = new HypercallArgs();
const inMulticall = new WeakSet<Vcpu>();

/** `multicall(call_list, nr_calls)`. */
export function multicall(ctx: HypercallContext, args: HypercallArgs): number | bigint {
  const { machine, vcpu } = ctx;
  if (inMulticall.has(vcpu)) return -Errno.EINVAL;
  const layout = MULTICALL_ENTRY.layout(machine.arch.dataModel);
  const list = args.u64(0);
  const nr = BigInt(args.u32(1));
  const size = BigInt(layout.size);
  // guest_handle_okay (x86 array_access_ok), checked before any entry and even for
  // nr_calls 0: nr below ~0UL / size, the list's start acceptable to the arch's
  // access_ok (x86_64 PV: not in [2^47, HYPERVISOR_VIRT_END)); without the hook, inside
  // the address space.
  const ulong = (1n << BigInt(machine.arch.wordBits)) - 1n;
  const bytes = nr * size;
  if (
    nr >= ulong / size ||
    !(machine.arch.guestAccessOk?.(ctx.domain, list, bytes) ?? list + bytes <= 1n << 64n)
  ) {
    return -Errno.EFAULT;
  }
  inMulticall.add(vcpu);
  try {
    let rc: number | bigint = 0;
    const bits = machine.arch.wordBits;
    for (let i = 0n; i < nr; i++) {
      const va = list + i * size;
      if (readGuestStruct(vcpu, va, layout, entry) !== 0) {
        rc = -Errno.EFAULT;
        break;
      }
      const op = layout.getBigInt(entry.view, 0, "op");
      for (let a = 0; a < 6; a++) {
        const v = a < 5 ? layout.getBigInt(entry.view, 0, `args.${a}`) : 0n;
        subArgs.set(a, Number(v & 0xffffffffn), Number(v >> 32n));
      }
      const nrNum = op < 0x100000000n ? Number(op) : -1;
      const result = machine.dispatchHypercall(vcpu, nrNum, subArgs);
      layout.set(entry.view, 0, "result", BigInt.asUintN(bits, BigInt(result)));
      const wrote = writeGuestField(vcpu, va, layout, entry, "result");
      if (nrNum === Hypercall.iret) {
        rc = result;
        break;
      }
      if (wrote !== 0) {
        rc = -Errno.EFAULT;
        break;
      }
    }
    return rc;
  } finally {
    inMulticall.delete(vcpu);
  }
}
