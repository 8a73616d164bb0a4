/**
 * grant_table_op, v1, minimal: GNTTABOP_setup_table and GNTTABOP_query_size
 * (xen/common/grant_table.c). A domain's grant table starts with one frame
 * (INITIAL_NR_GRANT_FRAMES) and grows on setup_table up to 64 (Xen's default
 * max_grant_frames). The frames belong to the hypervisor and are shared with the domain
 * (share_xen_page_with_guest): owned by it for mapping, outside its reservation. Every
 * other sub-operation returns −ENOSYS for now (set_version included, which guests treat
 * as "v1 only").
 *
 * @module
 */
import { Errno } from "../errno.js";
import type { HypercallArgs, HypercallContext, HypercallEntry } from "../hypercall.js";
import type { Domain } from "../domain.js";
import { GNTTAB_QUERY_SIZE, GNTTAB_SETUP_TABLE } from "../abi/grant-table.js";
import { GrantStatus, GrantTableOp, Hypercall } from "../abi/numbers.js";
import { readGuestStruct, StructBuffer, writeGuestField, writeGuestU64 } from "../guest-memory.js";

/** Frames a grant table has when the domain is created. */
export const INITIAL_NR_GRANT_FRAMES = 1;
/** Xen's default limit on grant-table frames per domain. */
export const MAX_GRANT_FRAMES = 64;

const DOMID_SELF = 0x7ff0;

/** A domain's grant table: the machine frames holding its v1 entries. */
export class GrantTable {
  /** Machine frames of the shared entries, in order. */
  readonly frames: number[] = [];
  /** The most frames this table may grow to. */
  readonly maxFrames = MAX_GRANT_FRAMES;
}

const tables = new WeakMap<Domain, GrantTable>();

/** The grant table of `domain`, created with its initial frames on first use (null when memory is short). */
export function grantTableOf(ctx: HypercallContext, domain: Domain): GrantTable | null {
  let gt = tables.get(domain);
  if (!gt) {
    gt = new GrantTable();
    tables.set(domain, gt);
  }
  if (
    gt.frames.length < INITIAL_NR_GRANT_FRAMES &&
    !growTable(ctx, domain, gt, INITIAL_NR_GRANT_FRAMES)
  )
    return null;
  return gt;
}

function growTable(ctx: HypercallContext, domain: Domain, gt: GrantTable, nr: number): boolean {
  const need = nr - gt.frames.length;
  if (need <= 0) return true;
  const got = ctx.machine.allocXenFrames(need);
  if (!got) return false;
  for (const mfn of got) {
    ctx.machine.memory.frameTable.owner[mfn] = domain.id;
    gt.frames.push(mfn);
  }
  return true;
}

function target(ctx: HypercallContext, dom: number): Domain | null {
  if (dom === DOMID_SELF || dom === ctx.domain.id) return ctx.domain;
  const d = ctx.machine.domains.get(dom);
  if (!d || d.isDead || !ctx.domain.privileged) return null;
  return d;
}

const buf = new StructBuffer(32);

function setupTable(ctx: HypercallContext, uop: bigint, count: number): number {
  if (count !== 1) return -Errno.EINVAL;
  const layout = GNTTAB_SETUP_TABLE.layout(ctx.machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const dom = Number(layout.get(buf.view, 0, "dom"));
  const nr = Number(layout.get(buf.view, 0, "nr_frames"));
  const list = BigInt(layout.get(buf.view, 0, "frame_list"));
  const d = target(ctx, dom);
  let status: number = GrantStatus.okay;
  if (!d) status = GrantStatus.bad_domain;
  else {
    const gt = grantTableOf(ctx, d);
    if (!gt || nr > gt.maxFrames || !growTable(ctx, d, gt, nr)) status = GrantStatus.general_error;
    else {
      for (let i = 0; i < nr; i++) {
        if (writeGuestU64(ctx.vcpu, list + BigInt(8 * i), BigInt(gt.frames[i])) !== 0) {
          status = GrantStatus.bad_virt_addr;
          break;
        }
      }
    }
  }
  layout.set(buf.view, 0, "status", status);
  return writeGuestField(ctx.vcpu, uop, layout, buf, "status") === 0 ? 0 : -Errno.EFAULT;
}

function querySize(ctx: HypercallContext, uop: bigint, count: number): number {
  if (count !== 1) return -Errno.EINVAL;
  const layout = GNTTAB_QUERY_SIZE.layout(ctx.machine.arch.dataModel);
  if (readGuestStruct(ctx.vcpu, uop, layout, buf) !== 0) return -Errno.EFAULT;
  const d = target(ctx, Number(layout.get(buf.view, 0, "dom")));
  const gt = d ? grantTableOf(ctx, d) : null;
  if (!d) layout.set(buf.view, 0, "status", GrantStatus.bad_domain);
  else if (!gt) layout.set(buf.view, 0, "status", GrantStatus.general_error);
  else {
    layout.set(buf.view, 0, "nr_frames", gt.frames.length);
    layout.set(buf.view, 0, "max_nr_frames", gt.maxFrames);
    layout.set(buf.view, 0, "status", GrantStatus.okay);
  }
  return writeGuestStructAll(ctx, uop, layout);
}

function writeGuestStructAll(
  ctx: HypercallContext,
  uop: bigint,
  layout: ReturnType<typeof GNTTAB_QUERY_SIZE.layout>,
): number {
  for (const f of ["nr_frames", "max_nr_frames", "status"]) {
    if (writeGuestField(ctx.vcpu, uop, layout, buf, f) !== 0) return -Errno.EFAULT;
  }
  return 0;
}

/** HYPERVISOR_grant_table_op(cmd, uop, count). */
export function grantTableOp(ctx: HypercallContext, args: HypercallArgs): number {
  const cmd = args.u32(0);
  const uop = args.u64(1);
  const count = args.i32(2);
  if (count < 0) return -Errno.EINVAL;
  switch (cmd) {
    case GrantTableOp.setup_table:
      return setupTable(ctx, uop, count);
    case GrantTableOp.query_size:
      return querySize(ctx, uop, count);
    default:
      return -Errno.ENOSYS;
  }
}

/** The grant_table_op row of the hypercall table. */
export const GRANT_TABLE_OP_ENTRY: HypercallEntry = {
  number: Hypercall.grant_table_op,
  name: "grant_table_op",
  handler: grantTableOp,
  modes: ["pv", "hvm-vmx", "hvm-svm", "vt-i", "hv"],
  xsm: "grant",
};
