/**
 * memory_op queries (xen/common/memory.c `do_memory_op`; memory_map from x86's
 * `arch_memory_op`).
 *
 * The command word carries the operation in its low 6 bits and a continuation's start
 * extent above; the queries take no continuation, so a non-zero start extent is −EINVAL.
 * - maximum_ram_page: the number of machine frames (Xen's `max_page`).
 * - current_reservation / maximum_reservation / maximum_gpfn: the argument points to a
 *   domid (DOMID_SELF or an id). Unknown domain −ESRCH; another domain's figures need
 *   XSM_TARGET (self or control domain), else −EPERM. maximum_gpfn is the highest
 *   guest frame with a machine frame behind it in the p2m (0 when none); Xen's x86 PV
 *   answer is the `max_pfn` the guest keeps in shared_info, less one, which a PV guest
 *   sets to the same value once it has sized its p2m.
 * - memory_map: copies up to `nr_entries` of the domain's e820 map and writes back the
 *   count; −ENOSYS when no map was set (Xen's behaviour; guests fall back to one RAM
 *   range).
 * Every other operation goes to the arch (`ArchPlugin.memoryOp`, e.g. machphys_mfn_list
 * on x86), or is −ENOSYS.
 *
 * @module
 */
import { MEMOP_CMD_MASK, MEMOP_EXTENT_SHIFT, MemoryOp } from "../abi/numbers.js";
import { E820_ENTRY, XEN_MEMORY_MAP } from "../abi/memory.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import {
  readGuestStruct,
  readGuestU16,
  StructBuffer,
  writeGuestField,
  writeGuestStruct,
} from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";

const buf = new StructBuffer(32);
const entryBuf = new StructBuffer(32);

/** `memory_op(cmd, arg)`. */
export function memoryOp(ctx: HypercallContext, args: HypercallArgs): number | bigint {
  const cmd = args.u64(0);
  const arg = args.u64(1);
  const op = Number(cmd & BigInt(MEMOP_CMD_MASK));
  const startExtent = cmd >> BigInt(MEMOP_EXTENT_SHIFT);
  switch (op) {
    case MemoryOp.maximum_ram_page:
      if (startExtent !== 0n) return -Errno.EINVAL;
      return ctx.machine.memory.frames;

    case MemoryOp.current_reservation:
    case MemoryOp.maximum_reservation:
    case MemoryOp.maximum_gpfn: {
      if (startExtent !== 0n) return -Errno.EINVAL;
      const domid = readGuestU16(ctx.vcpu, arg);
      if (domid < 0) return -Errno.EFAULT;
      const target = ctx.machine.findDomain(domid, ctx.domain);
      if (target === null) return -Errno.ESRCH;
      const denied = ctx.machine.xsm.memoryStatReservation(ctx.domain, target);
      if (denied !== 0) return denied;
      if (op === MemoryOp.current_reservation) return target.totPages;
      if (op === MemoryOp.maximum_reservation) return target.maxPages;
      return maximumGpfn(target);
    }

    case MemoryOp.memory_map:
      return memoryMap(ctx, arg);

    default:
      return ctx.machine.arch.memoryOp?.(ctx, op, cmd, arg) ?? -Errno.ENOSYS;
  }
}

function maximumGpfn(domain: Domain): number {
  const p2m = domain.p2m;
  for (let pfn = p2m.length - 1; pfn >= 0; pfn--) if (p2m[pfn] >= 0) return pfn;
  return 0;
}

function memoryMap(ctx: HypercallContext, arg: bigint): number {
  const { vcpu, domain } = ctx;
  const model = ctx.machine.arch.dataModel;
  const mapLayout = XEN_MEMORY_MAP.layout(model);
  if (readGuestStruct(vcpu, arg, mapLayout, buf) !== 0) return -Errno.EFAULT;
  const map = domain.memoryMap;
  if (map === null || map.length === 0) return -Errno.ENOSYS;
  const count = Math.min(mapLayout.getNumber(buf.view, 0, "nr_entries"), map.length);
  const buffer = mapLayout.getBigInt(buf.view, 0, "buffer");
  const entry = E820_ENTRY.layout(model);
  for (let i = 0; i < count; i++) {
    entry.set(entryBuf.view, 0, "addr", map[i].addr);
    entry.set(entryBuf.view, 0, "size", map[i].size);
    entry.set(entryBuf.view, 0, "type", map[i].type);
    if (writeGuestStruct(vcpu, buffer + BigInt(i * entry.size), entry, entryBuf) !== 0) {
      return -Errno.EFAULT;
    }
  }
  mapLayout.set(buf.view, 0, "nr_entries", count);
  if (writeGuestField(vcpu, arg, mapLayout, buf, "nr_entries") !== 0) return -Errno.EFAULT;
  return 0;
}
