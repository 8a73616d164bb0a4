/**
 * The memory_op a PowerPC toolstack needs beyond the core's: XENMEM_add_to_physmap_batch
 * with XENMAPSPACE_gmfn_foreign, which puts another domain's frames at guest frames of the
 * caller, where H_ENTER maps them (the plugin's foreign map, `mmu/frames.ts`).
 *
 * Xen/ppc's dom0 mapped any machine frame of another domain by naming it to H_ENTER
 * (pfn2mfn's PFN_TYPE_FOREIGN, xen/arch/powerpc/mm.c), which a toolstack of translated
 * domains — whose frames it knows only by their guest frames — cannot name. **hvkit
 * choice:** the call translated toolstacks make on Xen today (public/memory.h
 * XENMEM_add_to_physmap_batch; xen/common/memory.c xenmem_add_to_physmap_batch, x86
 * p2m_add_foreign), for the caller's own physmap only, at guest frames with no memory.
 *
 * @module
 */
import {
  Errno,
  MEMOP_EXTENT_SHIFT,
  MemoryOp,
  readGuestStruct,
  readGuestU64,
  StructBuffer,
  writeGuestU32,
  XEN_ADD_TO_PHYSMAP_BATCH,
  XENMAPSPACE_GMFN_FOREIGN,
  type Domain,
  type HypercallContext,
} from "@hvkit/core";
import type { PpcPv } from "./plugin.js";

const batchBuf = new StructBuffer(32);

/**
 * The arch part of memory_op (`ArchPlugin.memoryOp`): XENMEM_add_to_physmap_batch (see the
 * module comment); −ENOSYS for any other.
 */
export function ppcMemoryOp(
  ctx: HypercallContext<PpcPv>,
  op: number,
  cmd: bigint,
  arg: bigint,
): number {
  if (op !== MemoryOp.add_to_physmap_batch) return -Errno.ENOSYS;
  return addToPhysmapBatch(ctx, Number(cmd >> BigInt(MEMOP_EXTENT_SHIFT)), arg);
}

/**
 * XENMEM_add_to_physmap_batch. As Xen: an unreadable argument −EFAULT; an unknown domain
 * −ESRCH; a PV domain −EACCES; a start extent past `size` −EILSEQ. hvkit offers the
 * XENMAPSPACE_gmfn_foreign space only (others −EOPNOTSUPP) and on the caller's own
 * physmap (another domain's −EINVAL). Each frame's result goes to `errs`: 0; −ESRCH for
 * an unknown foreign domain, −EINVAL for the caller itself or a frame that domain does not
 * have; −EPERM when the caller may not map it (XSM_TARGET: xsm_map_gmfn_foreign);
 * −EINVAL for a caller's guest frame with memory there, or past what a p2m names. A frame
 * already at that guest frame from another domain is replaced. An `errs` or an element
 * that cannot be read or written ends the call with −EFAULT.
 */
function addToPhysmapBatch(ctx: HypercallContext<PpcPv>, start: number, arg: bigint): number {
  const { machine, domain: caller, vcpu } = ctx;
  const layout = XEN_ADD_TO_PHYSMAP_BATCH.layout(machine.arch.dataModel);
  if (readGuestStruct(vcpu, arg, layout, batchBuf) !== 0) return -Errno.EFAULT;
  const get = (path: string): number => layout.getNumber(batchBuf.view, 0, path);
  const d = machine.findDomain(get("domid"), caller);
  if (d === null) return -Errno.ESRCH;
  if (!d.translated) return -Errno.EACCES;
  const size = get("size");
  if (size < start) return -Errno.EILSEQ;
  if (get("space") !== XENMAPSPACE_GMFN_FOREIGN) return -Errno.EOPNOTSUPP;
  if (d !== caller) return -Errno.EINVAL;
  const idxs = layout.getBigInt(batchBuf.view, 0, "idxs");
  const gpfns = layout.getBigInt(batchBuf.view, 0, "gpfns");
  const errs = layout.getBigInt(batchBuf.view, 0, "errs");
  const foreignId = get("u.foreign_domid");
  for (let i = start; i < size; i++) {
    const idx = readGuestU64(vcpu, idxs + BigInt(8 * i));
    const gpfn = readGuestU64(vcpu, gpfns + BigInt(8 * i));
    if (idx < 0n || gpfn < 0n) return -Errno.EFAULT;
    const rc = mapForeign(ctx, caller, foreignId, idx, gpfn);
    if (writeGuestU32(vcpu, errs + BigInt(4 * i), rc) !== 0) return -Errno.EFAULT;
  }
  return 0;
}

/** One frame of the batch: frame `idx` of domain `foreignId` at the caller's `gpfn`. */
function mapForeign(
  ctx: HypercallContext<PpcPv>,
  caller: Domain<PpcPv>,
  foreignId: number,
  idx: bigint,
  gpfn: bigint,
): number {
  const { machine } = ctx;
  const fd = machine.domains.get(foreignId);
  if (fd === undefined) return -Errno.ESRCH;
  if (fd === caller) return -Errno.EINVAL;
  if (machine.xsm.memoryStatReservation(caller, fd) !== 0) return -Errno.EPERM;
  const owner = machine.memory.frameTable.owner;
  const frame = idx < BigInt(fd.p2m.length) ? Number(idx) : -1;
  const mfn = frame < 0 ? -1 : fd.translated ? fd.p2m[frame]! : frame;
  if (mfn < 0 || mfn >= owner.length || owner[mfn] !== fd.id) return -Errno.EINVAL;
  if (gpfn > 0x7fffffffn || (caller.p2m[Number(gpfn)] ?? -1) >= 0) return -Errno.EINVAL;
  caller.arch.foreignFrames.set(Number(gpfn), { mfn, owner: fd.id, readOnly: false });
  caller.arch.hpt?.invalidate();
  return 0;
}
