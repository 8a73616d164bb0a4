/**
 * A guest's side of grant_table_op for the grant tests, through the agent: each sub-op's
 * struct laid out by the arch's data model in one reused scratch buffer, and grant
 * entries (v1, or v2 once the table is switched with {@link Gnttab.setVersion}) written
 * into grant frames the test mapped in the agent's window, the order a granter uses
 * (domid and frame first, flags last: grant_table.h "Introducing a valid entry into the
 * grant table").
 *
 * A translated guest (the arch's `translatedPv`: every guest of Xen's IA-64 and PowerPC
 * ports, as HVM and PVH ones on x86 and all on ARM) names frames of its own guest-physical
 * space, so two things differ from an x86 PV guest, both from
 * xen/common/grant_table.c: its grant frames are in no slot of that space until it puts
 * them there (XENMEM_add_to_physmap with XENMAPSPACE_grant_table, as Linux's
 * gnttab_setup_auto_xlat_frames), and setup_table lists where they are
 * (`gnttab_shared_gfn`: x86 mfn_to_gfn through the M2P, ARM the frame's gfn); and a host
 * map's `host_addr` is a guest-physical address where Xen places the granted frame (x86
 * create_grant_p2m_mapping, ARM create_grant_host_mapping), which the guest then maps at a
 * virtual address itself. {@link Gnttab.mapAt} and {@link Gnttab.placeFrame} do each the
 * guest's way.
 *
 * @module
 */
import {
  DomId,
  GNTCOPY_DEST_GREF,
  GNTCOPY_SOURCE_GREF,
  GNTTAB_COPY,
  GNTTAB_GET_STATUS_FRAMES,
  GNTTAB_GET_VERSION,
  GNTTAB_MAP_GRANT_REF,
  GNTTAB_QUERY_SIZE,
  GNTTAB_SET_VERSION,
  GNTTAB_SETUP_TABLE,
  GNTTAB_TRANSFER,
  GNTTAB_UNMAP_GRANT_REF,
  GNTMAP_READONLY,
  GRANT_ENTRY_HEADER,
  GRANT_ENTRY_V1,
  GRANT_ENTRY_V2,
  GrantTableOp,
  Hypercall,
  MemoryOp,
  XEN_ADD_TO_PHYSMAP,
  XENMAPSPACE_GRANT_TABLE,
} from "@hvkit/core";
import type { Agent, StructValues } from "../../agent.js";

/** What a test reports for a sub-op whose hypercall itself failed (not a GNTST_* code). */
export const HYPERCALL_FAILED = -1000;

/**
 * The first guest frame past the agent's memory that the grant tests put frames at (a
 * translated guest's grant frames and host maps): a hole of its guest-physical space.
 */
const HOLES_FROM_PAGES = 0x100n;

/** The result of GNTTABOP_map_grant_ref. */
export interface MapResult {
  /** The op's status (GNTST_*), or {@link HYPERCALL_FAILED}. */
  readonly status: number;
  /** The handle to unmap with. */
  readonly handle: number;
  /** The bus address of the frame (device maps and PV host maps). */
  readonly devBusAddr: bigint;
  /** The op's host_addr (see {@link Gnttab.mapAt}). */
  readonly host: bigint;
}

/** The end of a GNTTABOP_copy: a grant reference, or (`gref` false) a frame of the caller. */
export interface CopyEnd {
  /** A grant reference, or a machine frame. */
  readonly at: bigint | number;
  /** The granting domain (a reference) or DOMID_SELF (a frame). */
  readonly domid: number;
  /** Byte offset in the page. */
  readonly offset: number;
  /** True when `at` is a grant reference. */
  readonly gref: boolean;
}

/** The v2 entry a test writes: a full page, a byte range of one, or a transitive grant. */
export type GrantV2 =
  | { readonly frame: bigint; readonly pageOff?: number; readonly length?: number }
  | { readonly transDomid: number; readonly gref: number };

/** grant_table_op from the agent's guest, and its own grant entries. */
export class Gnttab {
  private readonly buf: bigint;
  /** The format of the entries this side writes and reads: 1 until {@link setVersion} says 2. */
  version: 1 | 2 = 1;
  /** The agent's guest is translated (its arch's `translatedPv`; see the module comment). */
  readonly translated: boolean;

  /**
   * @param agent - the agent.
   * @param table - where the test mapped the grant frames of the table it writes entries
   *   in, one after the other (entry `ref` at `table + ref × 8`).
   */
  constructor(
    readonly agent: Agent,
    readonly table: bigint,
  ) {
    this.buf = agent.alloc(64, 8);
    this.translated = agent.arch.translatedPv === true;
  }

  /**
   * Guest frame `i` of the holes past the agent's memory (a translated guest's free
   * guest-physical space; the same every run).
   */
  hole(i: number): bigint {
    return BigInt(this.agent.bootInfo().nrPages) + HOLES_FROM_PAGES + BigInt(i);
  }

  /**
   * XENMEM_add_to_physmap(XENMAPSPACE_grant_table, `idx`, `gpfn`) on domain `dom`: puts
   * grant frame `idx` (with XENMAPIDX_grant_table_status, status frame) of `dom`'s table
   * at `dom`'s guest frame `gpfn`. The hypercall's result.
   */
  placeFrame(idx: number, gpfn: bigint, dom: number = DomId.SELF): bigint {
    const a = this.agent;
    a.writeStruct(XEN_ADD_TO_PHYSMAP, this.buf, {
      domid: dom,
      space: XENMAPSPACE_GRANT_TABLE,
      idx,
      gpfn,
    });
    return a.hypercall(Hypercall.memory_op, MemoryOp.add_to_physmap, a.handle(this.buf));
  }

  /**
   * The machine frame behind frame `frame` of domain `dom` (default the agent's), what
   * dev_bus_addr reports (map_grant_ref's mfn_to_maddr): the frame itself for a PV guest,
   * its p2m entry for a translated one (read from the hypervisor's side: the guest cannot
   * know it); −1 for none.
   */
  machineFrame(frame: bigint, dom?: number): bigint {
    if (!this.translated) return frame;
    const session = this.agent.session;
    const d = dom === undefined ? session.domain : session.machine.domains.get(dom);
    return BigInt(d?.p2m[Number(frame)] ?? -1);
  }

  /**
   * GNTTABOP_map_grant_ref of `dom`'s `ref` with `flags` (GNTMAP_host_map among them),
   * shown at window page `va`: a PV guest names `va` as host_addr; a translated guest
   * names the guest-physical address of a hole kept for `va` and, once mapped, maps that
   * frame at `va` with the arch's page-table update (read-only for GNTMAP_readonly). A
   * failed window mapping reports {@link HYPERCALL_FAILED}.
   */
  mapAt(va: bigint, flags: number, ref: number, dom: number): MapResult {
    if (!this.translated) return this.map(va, flags, ref, dom);
    const a = this.agent;
    const gpfn = this.hole(32 + Number((va - a.boot.window) / BigInt(a.pageSize)));
    const m = this.map(gpfn * BigInt(a.pageSize), flags, ref, dom);
    if (m.status !== 0) return m;
    const rc = a.mapFrame(va, gpfn, (flags & GNTMAP_READONLY) === 0);
    return rc === 0n ? m : { ...m, status: HYPERCALL_FAILED };
  }

  /** GNTTABOP_unmap_grant_ref of a {@link Gnttab.mapAt} mapping `m`: its status. */
  unmapAt(m: MapResult, handle: number = m.handle): number {
    return this.unmap(m.host, 0n, handle);
  }

  /** grant_table_op(`cmd`, the buffer at `va`, `count`): the hypercall's result. */
  op(cmd: GrantTableOp | number, va: bigint, count: number | bigint = 1): bigint {
    return this.agent.hypercall(Hypercall.grant_table_op, cmd, this.agent.handle(va), count);
  }

  /** GNTTABOP_query_size on `dom`. */
  querySize(dom: number): { rc: bigint; status: number; nrFrames: number; maxNrFrames: number } {
    const a = this.agent;
    a.writeStruct(GNTTAB_QUERY_SIZE, this.buf, {
      dom,
      nr_frames: 0x55555555,
      max_nr_frames: 0x55555555,
      status: 0x5555,
    });
    const rc = this.op(GrantTableOp.query_size, this.buf);
    const q = a.readStruct(GNTTAB_QUERY_SIZE, this.buf);
    return {
      rc,
      status: q.getNumber("status"),
      nrFrames: q.getNumber("nr_frames"),
      maxNrFrames: q.getNumber("max_nr_frames"),
    };
  }

  /** GNTTABOP_setup_table on `dom` for `nr` frames listed at `list` (a guest address). */
  setupTable(dom: number, nr: number, list: bigint, count = 1): { rc: bigint; status: number } {
    const a = this.agent;
    a.writeStruct(GNTTAB_SETUP_TABLE, this.buf, {
      dom,
      nr_frames: nr,
      status: 0x55,
      frame_list: a.handle(list),
    });
    const rc = this.op(GrantTableOp.setup_table, this.buf, count);
    return { rc, status: a.readStruct(GNTTAB_SETUP_TABLE, this.buf).getNumber("status") };
  }

  /** Writes entry `ref` granting `frame` (v1 `frame`, v2 `full_page.frame`): domid and frame, then flags. */
  grant(ref: number, flags: number, domid: number, frame: bigint): void {
    if (this.version === 2) return this.grantV2(ref, flags, domid, { frame });
    const a = this.agent;
    const entry = GRANT_ENTRY_V1.layout(a.model);
    const va = this.entry(ref);
    const bytes = a.structBytes(GRANT_ENTRY_V1, { domid, frame: BigInt.asUintN(32, frame) });
    a.write(va + BigInt(entry.offsetOf("domid")), bytes.subarray(entry.offsetOf("domid")));
    a.writeUint(va + BigInt(entry.offsetOf("flags")), 2, flags);
  }

  /**
   * Writes v2 entry `ref`: the member `e` names (`sub_page` when a range is given, else
   * `full_page`; `transitive`), then the header's flags.
   */
  grantV2(ref: number, flags: number, domid: number, e: GrantV2): void {
    const a = this.agent;
    const entry = GRANT_ENTRY_V2.layout(a.model);
    const va = this.entry(ref);
    const values: StructValues =
      "transDomid" in e
        ? {
            "hdr.domid": domid,
            "transitive.trans_domid": e.transDomid,
            "transitive.gref": e.gref,
          }
        : e.pageOff !== undefined || e.length !== undefined
          ? {
              "hdr.domid": domid,
              "sub_page.page_off": e.pageOff ?? 0,
              "sub_page.length": e.length ?? 0,
              "sub_page.frame": e.frame,
            }
          : { "hdr.domid": domid, "full_page.frame": e.frame };
    const at = entry.offsetOf("hdr.domid");
    a.write(va + BigInt(at), a.structBytes(GRANT_ENTRY_V2, values).subarray(at));
    a.writeUint(va + BigInt(entry.offsetOf("hdr.flags")), 2, flags);
  }

  /** The flags of entry `ref` as the guest reads them (in v2: the header's, without GTF_reading/writing). */
  flags(ref: number): number {
    return this.agent.readStruct(GRANT_ENTRY_HEADER, this.entry(ref)).getNumber("flags");
  }

  /** The frame field of entry `ref` (v2: `full_page.frame`). */
  frame(ref: number): bigint {
    if (this.version === 2)
      return this.agent.readStruct(GRANT_ENTRY_V2, this.entry(ref)).getBigInt("full_page.frame");
    return this.agent.readStruct(GRANT_ENTRY_V1, this.entry(ref)).getBigInt("frame");
  }

  /** The domid field of entry `ref`. */
  domid(ref: number): number {
    return this.agent.readStruct(GRANT_ENTRY_HEADER, this.entry(ref)).getNumber("domid");
  }

  /** GNTTABOP_set_version(`version`): the hypercall's result and the version written back. */
  setVersion(version: number): { rc: bigint; version: number } {
    const a = this.agent;
    a.writeStruct(GNTTAB_SET_VERSION, this.buf, { version });
    const rc = this.op(GrantTableOp.set_version, this.buf);
    const now = a.readStruct(GNTTAB_SET_VERSION, this.buf).getNumber("version");
    if (rc === 0n && (version === 1 || version === 2)) this.version = version;
    return { rc, version: now };
  }

  /** GNTTABOP_get_version of `dom`: the hypercall's result and the version. */
  getVersion(dom: number): { rc: bigint; version: number } {
    const a = this.agent;
    a.writeStruct(GNTTAB_GET_VERSION, this.buf, { dom, version: 0x55555555 });
    const rc = this.op(GrantTableOp.get_version, this.buf);
    return { rc, version: a.readStruct(GNTTAB_GET_VERSION, this.buf).getNumber("version") };
  }

  /** GNTTABOP_get_status_frames of `dom` for `nr` frames listed at `list` (uint64 each). */
  statusFrames(dom: number, nr: number, list: bigint): { rc: bigint; status: number } {
    const a = this.agent;
    a.writeStruct(GNTTAB_GET_STATUS_FRAMES, this.buf, {
      dom,
      nr_frames: nr,
      status: 0x55,
      frame_list: a.handle(list),
    });
    const rc = this.op(GrantTableOp.get_status_frames, this.buf);
    return { rc, status: a.readStruct(GNTTAB_GET_STATUS_FRAMES, this.buf).getNumber("status") };
  }

  /** GNTTABOP_map_grant_ref of `dom`'s entry `ref` at `host` (0: none) with GNTMAP_* `flags`. */
  map(host: bigint, flags: number, ref: number, dom: number): MapResult {
    const a = this.agent;
    a.writeStruct(GNTTAB_MAP_GRANT_REF, this.buf, {
      host_addr: host,
      flags,
      ref,
      dom,
      status: 0x55,
      handle: 0xdeadbeef,
    });
    const rc = this.op(GrantTableOp.map_grant_ref, this.buf);
    const m = a.readStruct(GNTTAB_MAP_GRANT_REF, this.buf);
    return {
      status: rc !== 0n ? HYPERCALL_FAILED : m.getNumber("status"),
      handle: m.getNumber("handle"),
      devBusAddr: m.getBigInt("dev_bus_addr"),
      host,
    };
  }

  /** GNTTABOP_unmap_grant_ref: its status, or {@link HYPERCALL_FAILED}. */
  unmap(host: bigint, devBusAddr: bigint, handle: number): number {
    const a = this.agent;
    a.writeStruct(GNTTAB_UNMAP_GRANT_REF, this.buf, {
      host_addr: host,
      dev_bus_addr: devBusAddr,
      handle,
      status: 0x55,
    });
    const rc = this.op(GrantTableOp.unmap_grant_ref, this.buf);
    return rc !== 0n
      ? HYPERCALL_FAILED
      : a.readStruct(GNTTAB_UNMAP_GRANT_REF, this.buf).getNumber("status");
  }

  /** The bytes of one `struct gnttab_copy` of `len` bytes from `source` to `dest`. */
  copyOp(source: CopyEnd, dest: CopyEnd, len: number): Uint8Array {
    const v: Record<string, number | bigint> = {
      len,
      flags: (source.gref ? GNTCOPY_SOURCE_GREF : 0) | (dest.gref ? GNTCOPY_DEST_GREF : 0),
      status: 0x55,
    };
    for (const [name, end] of [
      ["source", source],
      ["dest", dest],
    ] as const) {
      v[`${name}.u.${end.gref ? "ref" : "gmfn"}`] = end.at;
      v[`${name}.domid`] = end.domid;
      v[`${name}.offset`] = end.offset;
    }
    return this.agent.structBytes(GNTTAB_COPY, v as StructValues);
  }

  /** One GNTTABOP_copy: its status, or {@link HYPERCALL_FAILED}. */
  copy(source: CopyEnd, dest: CopyEnd, len: number): number {
    const a = this.agent;
    a.write(this.buf, this.copyOp(source, dest, len));
    const rc = this.op(GrantTableOp.copy, this.buf);
    return rc !== 0n ? HYPERCALL_FAILED : a.readStruct(GNTTAB_COPY, this.buf).getNumber("status");
  }

  /**
   * One GNTTABOP_copy of a batch of ops (each from {@link Gnttab.copyOp}), placed in
   * scratch memory: the hypercall's result and each op's status.
   */
  copyBatch(ops: readonly Uint8Array[]): { rc: bigint; statuses: number[] } {
    const a = this.agent;
    const size = GNTTAB_COPY.layout(a.model).size;
    const batch = new Uint8Array(size * ops.length);
    ops.forEach((op, i) => batch.set(op, i * size));
    const at = a.place(batch);
    const rc = this.op(GrantTableOp.copy, at, ops.length);
    const statuses = ops.map((_, i) =>
      a.readStruct(GNTTAB_COPY, at + BigInt(i * size)).getNumber("status"),
    );
    return { rc, statuses };
  }

  /** GNTTABOP_transfer of frame `frame` to `domid`'s accept-transfer entry `ref`. */
  transfer(frame: bigint, domid: number, ref: number): number {
    const a = this.agent;
    a.writeStruct(GNTTAB_TRANSFER, this.buf, { mfn: frame, domid, ref, status: 0x55 });
    const rc = this.op(GrantTableOp.transfer, this.buf);
    return rc !== 0n
      ? HYPERCALL_FAILED
      : a.readStruct(GNTTAB_TRANSFER, this.buf).getNumber("status");
  }

  private entry(ref: number): bigint {
    const def = this.version === 2 ? GRANT_ENTRY_V2 : GRANT_ENTRY_V1;
    return this.table + BigInt(ref * def.layout(this.agent.model).size);
  }
}

/** A grant-reference end of a copy. */
export function gref(ref: number, domid: number, offset = 0): CopyEnd {
  return { at: ref, domid, offset, gref: true };
}

/** A frame end of a copy (the caller's own frame; Xen wants DOMID_SELF there). */
export function frameEnd(frame: bigint, offset = 0, domid: number = DomId.SELF): CopyEnd {
  return { at: frame, domid, offset, gref: false };
}
