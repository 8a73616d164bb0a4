/**
 * The x86 memory map (e820) operations of memory_op, from x86's `arch_memory_op`:
 *
 * - XENMEM_memory_map: copies up to `nr_entries` of the caller's map to `buffer` and writes
 *   back the count; −ENOSYS when no map was set (Xen's behaviour; guests such as Linux
 *   fall back to one RAM range).
 * - XENMEM_set_memory_map (`struct xen_foreign_memory_map`): unreadable argument −EFAULT;
 *   more than E820MAX entries −EINVAL; unknown domain −ESRCH; XSM (XSM_TARGET: itself or
 *   the control domain) −EPERM; an unreadable entry −EFAULT; then the domain's map is
 *   replaced (0 entries leaves it with none, so memory_map answers −ENOSYS again).
 * - XENMEM_machine_memory_map: the host's e820 ({@link hostE820}), for the control domain
 *   only (XSM_PRIV, −EPERM); see {@link machineMemoryMap}.
 *
 * An x86 arch keeps the map in its per-domain state ({@link E820DomainState}) and calls
 * {@link e820MemoryOp} from its `ArchPlugin.memoryOp`.
 *
 * @module
 */
import {
  defineStruct,
  domid,
  Errno,
  field,
  MemoryOp,
  readGuestStruct,
  StructBuffer,
  writeGuestField,
  writeGuestStruct,
  XEN_MEMORY_MAP,
  type ArchTypes,
  type HypercallContext,
} from "@hvkit/core";
import { E820_ENTRY, E820_RAM, E820_RESERVED } from "./abi.js";

/** One range of a domain's memory map, as `struct e820entry` holds it. */
export interface E820Entry {
  /** Start guest-physical address. */
  readonly addr: bigint;
  /** Length in bytes. */
  readonly size: bigint;
  /** E820_* type (1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable). */
  readonly type: number;
}

/** The part of an x86 domain's arch state the memory-map operations use. */
export interface E820DomainState {
  /**
   * The memory map XENMEM_memory_map returns, as set by the domain builder or the
   * toolstack (XENMEM_set_memory_map); null when none was set.
   */
  memoryMap: E820Entry[] | null;
}

/** The state types of an arch whose domains keep an e820 map. */
export interface E820ArchTypes extends ArchTypes {
  /** Per-domain state with the memory map. */
  readonly domain: E820DomainState;
}

/** x86 E820MAX (xen/arch/x86/include/asm/e820.h): most entries set_memory_map takes. */
export const E820MAX = 1024;

/**
 * `struct xen_foreign_memory_map` (public/memory.h): set_memory_map's argument, a domid_t
 * and a nested xen_memory_map.
 */
const XEN_FOREIGN_MEMORY_MAP = defineStruct(
  "xen_foreign_memory_map",
  "Set a domain's (pseudo-physical) memory map.",
  {
    domid: field(domid, "The domain (DOMID_SELF allowed)."),
    map: field(XEN_MEMORY_MAP, "nr_entries e820 entries at buffer."),
  },
);

const buf = new StructBuffer(32);
const entryBuf = new StructBuffer(32);

/**
 * XENMEM_memory_map and XENMEM_set_memory_map for an x86 arch's `memoryOp`: their result,
 * or −ENOSYS for any other operation.
 */
export function e820MemoryOp<A extends E820ArchTypes>(
  ctx: HypercallContext<A>,
  op: number,
  arg: bigint,
): number {
  if (op === MemoryOp.memory_map) return memoryMap(ctx, arg);
  if (op === MemoryOp.set_memory_map) return setMemoryMap(ctx, arg);
  if (op === MemoryOp.machine_memory_map) return machineMemoryMap(ctx, arg);
  return -Errno.ENOSYS;
}

function memoryMap<A extends E820ArchTypes>(ctx: HypercallContext<A>, arg: bigint): number {
  const { vcpu, domain } = ctx;
  const model = ctx.machine.arch.dataModel;
  const mapLayout = XEN_MEMORY_MAP.layout(model);
  if (readGuestStruct(vcpu, arg, mapLayout, buf) !== 0) return -Errno.EFAULT;
  const map = domain.arch.memoryMap;
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

function setMemoryMap<A extends E820ArchTypes>(ctx: HypercallContext<A>, arg: bigint): number {
  const { machine, vcpu } = ctx;
  const model = machine.arch.dataModel;
  const layout = XEN_FOREIGN_MEMORY_MAP.layout(model);
  if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
  const count = layout.getNumber(buf.view, 0, "map.nr_entries");
  if (count > E820MAX) return -Errno.EINVAL;
  const d = machine.findDomain(layout.getNumber(buf.view, 0, "domid"), ctx.domain);
  if (d === null) return -Errno.ESRCH;
  const denied = machine.xsm.memoryStatReservation(ctx.domain, d);
  if (denied !== 0) return denied;
  const buffer = layout.getBigInt(buf.view, 0, "map.buffer");
  const entry = E820_ENTRY.layout(model);
  const map: E820Entry[] = [];
  for (let i = 0; i < count; i++) {
    if (readGuestStruct(vcpu, buffer + BigInt(i * entry.size), entry, entryBuf) !== 0) {
      return -Errno.EFAULT;
    }
    map.push({
      addr: entry.getBigInt(entryBuf.view, 0, "addr"),
      size: entry.getBigInt(entryBuf.view, 0, "size"),
      type: entry.getNumber(entryBuf.view, 0, "type"),
    });
  }
  d.arch.memoryMap = map;
  return 0;
}

/**
 * Xen's MSI address window (MSI_ADDR_BASE_LO, 1 MiB from 0xfee00000, the local APIC's page
 * inside it): `dom0_setup_permissions` (x86 dom0_build.c) denies it to the control domain,
 * so XENMEM_machine_memory_map reports it as a reserved hole.
 */
const MSI_WINDOW = { addr: 0xfee00000n, size: 0x100000n } as const;

/**
 * The host e820 hvkit models: its machine memory is RAM from address 0 to its end, with
 * no firmware (no BIOS area, no ACPI tables, no MMIO devices), so the map is that one RAM
 * range, cut by the MSI window Xen keeps from dom0 when the machine reaches it (the frames
 * under the window are then not reported). Every other hole is I/O space dom0 may use,
 * which XENMEM_machine_memory_map leaves out, as `handle_iomem_range` does.
 */
export function hostE820(machineBytes: bigint): E820Entry[] {
  const msiEnd = MSI_WINDOW.addr + MSI_WINDOW.size;
  if (machineBytes <= MSI_WINDOW.addr) {
    return [
      { addr: 0n, size: machineBytes, type: E820_RAM },
      { ...MSI_WINDOW, type: E820_RESERVED },
    ];
  }
  const map: E820Entry[] = [
    { addr: 0n, size: MSI_WINDOW.addr, type: E820_RAM },
    { ...MSI_WINDOW, type: E820_RESERVED },
  ];
  if (machineBytes > msiEnd)
    map.push({ addr: msiEnd, size: machineBytes - msiEnd, type: E820_RAM });
  return map;
}

/**
 * XENMEM_machine_memory_map (x86 mm.c `arch_memory_op`): XSM_PRIV (−EPERM for a domU);
 * an unreadable argument −EFAULT; with a buffer, fewer than the map's entries plus one
 * −EINVAL (Xen wants a spare slot) and an unwritable buffer −EFAULT; then the entries are
 * copied and `nr_entries` written back. A null buffer only counts.
 */
export function machineMemoryMap<A extends ArchTypes>(
  ctx: HypercallContext<A>,
  arg: bigint,
): number {
  const { machine, vcpu } = ctx;
  const denied = machine.xsm.machineMemoryMap(ctx.domain);
  if (denied !== 0) return denied;
  const model = machine.arch.dataModel;
  const mapLayout = XEN_MEMORY_MAP.layout(model);
  if (readGuestStruct(vcpu, arg, mapLayout, buf) !== 0) return -Errno.EFAULT;
  const map = hostE820(BigInt(machine.memory.frames) * BigInt(machine.memory.pageSize));
  const capacity = mapLayout.getNumber(buf.view, 0, "nr_entries");
  const buffer = mapLayout.getBigInt(buf.view, 0, "buffer");
  if (buffer !== 0n) {
    if (capacity < map.length + 1) return -Errno.EINVAL;
    const entry = E820_ENTRY.layout(model);
    for (let i = 0; i < map.length; i++) {
      entry.set(entryBuf.view, 0, "addr", map[i].addr);
      entry.set(entryBuf.view, 0, "size", map[i].size);
      entry.set(entryBuf.view, 0, "type", map[i].type);
      if (writeGuestStruct(vcpu, buffer + BigInt(i * entry.size), entry, entryBuf) !== 0) {
        return -Errno.EFAULT;
      }
    }
  }
  mapLayout.set(buf.view, 0, "nr_entries", map.length);
  if (writeGuestField(vcpu, arg, mapLayout, buf, "nr_entries") !== 0) return -Errno.EFAULT;
  return 0;
}
