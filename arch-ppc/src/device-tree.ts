/**
 * A reader of flattened device trees (the "FDT" or DTB blob, magic 0xd00dfeed), the boot
 * information a PowerPC domain gets in r3 instead of a start_info page.
 *
 * The format (Devicetree Specification, "Flattened Devicetree (DTB) Format"; Xen/ppc's
 * libxc wrote it with mk_flatdevtree.c): a 40-byte big-endian header (magic, totalsize,
 * off_dt_struct, off_dt_strings, off_mem_rsvmap, version, last_comp_version,
 * boot_cpuid_phys, size_dt_strings, size_dt_struct), a memory reservation map, a
 * structure block of 32-bit tokens — FDT_BEGIN_NODE (1) + NUL-terminated name,
 * FDT_END_NODE (2), FDT_PROP (3) + {len, nameoff} + value, FDT_NOP (4), FDT_END (9), each
 * name and value padded to 4 bytes — and a strings block holding property names.
 * Versions 16 and 17 are read (16 lacks the two size fields; the blob's totalsize bounds
 * it instead).
 *
 * @module
 */
import { HvkitError } from "@hvkit/core";

/** A device tree blob is malformed; the message says what and at which offset. */
export class DeviceTreeError extends HvkitError {}

/** The FDT header's magic number. */
export const FDT_MAGIC = 0xd00dfeed;
/** Size of the version 17 header. */
export const FDT_HEADER_BYTES = 40;

const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_NOP = 4;
const FDT_END = 9;

/** One node of a device tree, with its properties (raw big-endian values) and children. */
export class DeviceTreeNode {
  /**
   * @param name - the node's name with its unit address (`memory@0`); "" for the root.
   * @param properties - property name to value bytes.
   * @param children - child nodes in blob order.
   */
  constructor(
    readonly name: string,
    readonly properties: ReadonlyMap<string, Uint8Array>,
    readonly children: readonly DeviceTreeNode[],
  ) {}

  /** The child called `name` (the full name, `memory@0`), if any. */
  child(name: string): DeviceTreeNode | undefined {
    return this.children.find((c) => c.name === name);
  }

  /** The node at `path` below this one (`/xen/console` from the root), if any. */
  find(path: string): DeviceTreeNode | undefined {
    return path
      .split("/")
      .filter((part) => part !== "")
      .reduce<DeviceTreeNode | undefined>((node, part) => node?.child(part), this);
  }

  /** The `index`th 32-bit cell of property `name`, or undefined when it is absent or shorter. */
  u32(name: string, index = 0): number | undefined {
    const v = this.properties.get(name);
    if (v === undefined || v.length < (index + 1) * 4) return undefined;
    return new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(index * 4, false);
  }

  /** The `index`th 64-bit value (two cells) of property `name`, or undefined. */
  u64(name: string, index = 0): bigint | undefined {
    const v = this.properties.get(name);
    if (v === undefined || v.length < (index + 1) * 8) return undefined;
    return new DataView(v.buffer, v.byteOffset, v.byteLength).getBigUint64(index * 8, false);
  }

  /** Property `name` as a string (up to its first NUL), or undefined. */
  string(name: string): string | undefined {
    const v = this.properties.get(name);
    if (v === undefined) return undefined;
    const end = v.indexOf(0);
    return new TextDecoder().decode(end < 0 ? v : v.subarray(0, end));
  }
}

/**
 * The `totalsize` a blob's header declares, from its first {@link FDT_HEADER_BYTES}
 * bytes (to know how much to read). Throws {@link DeviceTreeError} when the magic is wrong.
 */
export function deviceTreeSize(header: Uint8Array): number {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.length < 8)
    throw new DeviceTreeError(`a device tree header is 40 bytes, got ${header.length}`);
  const magic = view.getUint32(0, false);
  if (magic !== FDT_MAGIC) {
    throw new DeviceTreeError(
      `not a flattened device tree: magic 0x${magic.toString(16)} at offset 0, expected 0x${FDT_MAGIC.toString(16)}`,
    );
  }
  return view.getUint32(4, false);
}

/**
 * Parses a flattened device tree and returns its root node. Throws
 * {@link DeviceTreeError} for a bad magic, an unsupported version, offsets outside the
 * blob, an unknown token, unbalanced nodes or a name not terminated in its block.
 */
export function parseDeviceTree(blob: Uint8Array): DeviceTreeNode {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (blob.length < FDT_HEADER_BYTES)
    throw new DeviceTreeError(`the blob is ${blob.length} bytes, shorter than the 40-byte header`);
  const total = deviceTreeSize(blob);
  const word = (offset: number): number => view.getUint32(offset, false);
  if (total > blob.length || total < FDT_HEADER_BYTES)
    throw new DeviceTreeError(
      `totalsize ${total} (offset 4) does not fit the ${blob.length}-byte blob`,
    );
  const version = word(20);
  const lastCompatible = word(24);
  if (version < 16 || lastCompatible > 17) {
    throw new DeviceTreeError(
      `version ${version} (last compatible ${lastCompatible}) at offset 20: only versions 16 and 17 are read`,
    );
  }
  const structStart = word(8);
  const stringsStart = word(12);
  const structEnd = version >= 17 ? structStart + word(36) : total;
  const stringsEnd = version >= 17 ? stringsStart + word(32) : total;
  if (structEnd > total || stringsEnd > total) {
    throw new DeviceTreeError(
      `the structure block (${structStart}..${structEnd}) or strings block (${stringsStart}..${stringsEnd}) ends past totalsize ${total}`,
    );
  }
  const text = new TextDecoder();
  const cstring = (from: number, end: number, what: string): [string, number] => {
    const nul = blob.subarray(0, end).indexOf(0, from);
    if (nul < 0) throw new DeviceTreeError(`${what} at offset ${from} has no terminating NUL`);
    return [text.decode(blob.subarray(from, nul)), nul + 1];
  };
  const align4 = (n: number): number => (n + 3) & ~3;

  interface Open {
    name: string;
    properties: Map<string, Uint8Array>;
    children: DeviceTreeNode[];
  }
  const stack: Open[] = [];
  let root: DeviceTreeNode | undefined;
  for (let p = structStart; ;) {
    if (p + 4 > structEnd)
      throw new DeviceTreeError(`the structure block ends at ${structEnd} before FDT_END`);
    const token = word(p);
    const at = p;
    p += 4;
    switch (token) {
      case FDT_BEGIN_NODE: {
        if (root !== undefined) throw new DeviceTreeError(`a second root node at offset ${at}`);
        const [name, next] = cstring(p, structEnd, "a node name");
        p = align4(next);
        stack.push({ name, properties: new Map(), children: [] });
        break;
      }
      case FDT_END_NODE: {
        const open = stack.pop();
        if (open === undefined)
          throw new DeviceTreeError(`FDT_END_NODE at offset ${at} closes no node`);
        const node = new DeviceTreeNode(open.name, open.properties, open.children);
        if (stack.length === 0) root = node;
        else stack[stack.length - 1].children.push(node);
        break;
      }
      case FDT_PROP: {
        const open = stack.at(-1);
        if (open === undefined)
          throw new DeviceTreeError(`a property at offset ${at} outside any node`);
        if (p + 8 > structEnd) throw new DeviceTreeError(`the property at offset ${at} is cut off`);
        const len = word(p);
        const nameOff = word(p + 4);
        p += 8;
        if (p + len > structEnd)
          throw new DeviceTreeError(
            `the ${len}-byte value of the property at offset ${at} is cut off`,
          );
        if (stringsStart + nameOff >= stringsEnd)
          throw new DeviceTreeError(
            `the property at offset ${at} names string ${nameOff}, outside the strings block`,
          );
        const [name] = cstring(stringsStart + nameOff, stringsEnd, "a property name");
        open.properties.set(name, blob.slice(p, p + len));
        p = align4(p + len);
        break;
      }
      case FDT_NOP:
        break;
      case FDT_END:
        if (root === undefined || stack.length !== 0)
          throw new DeviceTreeError(
            `FDT_END at offset ${at} with ${stack.length} node(s) still open`,
          );
        return root;
      default:
        throw new DeviceTreeError(`unknown token 0x${token.toString(16)} at offset ${at}`);
    }
  }
}

/** A node to write with {@link writeDeviceTree}: its name, properties and children. */
export interface DeviceTreeSpec {
  /** The node's name with its unit address (`memory@0`); "" for the root. */
  readonly name: string;
  /** Property name to value bytes (big-endian cells, NUL-terminated strings). */
  readonly props?: Readonly<Record<string, Uint8Array>>;
  /** Child nodes, written in this order. */
  readonly children?: readonly DeviceTreeSpec[];
}

/**
 * Writes `root` as a version 17 flattened device tree (last compatible version 16): the
 * header, an empty memory reservation map, the structure block and the strings block
 * (each property name once), as a domain builder hands a PowerPC guest in r3.
 */
export function writeDeviceTree(root: DeviceTreeSpec, bootCpu = 0): Uint8Array {
  const structure: number[] = [];
  const strings: number[] = [];
  const nameOffsets = new Map<string, number>();
  const encoder = new TextEncoder();
  const u32 = (v: number): void => {
    structure.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  };
  const bytes = (b: Uint8Array): void => {
    structure.push(...b);
    while (structure.length % 4 !== 0) structure.push(0);
  };
  const node = (n: DeviceTreeSpec): void => {
    u32(FDT_BEGIN_NODE);
    bytes(encoder.encode(`${n.name}\0`));
    for (const [name, value] of Object.entries(n.props ?? {})) {
      let off = nameOffsets.get(name);
      if (off === undefined) {
        off = strings.length;
        nameOffsets.set(name, off);
        strings.push(...encoder.encode(`${name}\0`));
      }
      u32(FDT_PROP);
      u32(value.length);
      u32(off);
      bytes(value);
    }
    for (const c of n.children ?? []) node(c);
    u32(FDT_END_NODE);
  };
  node(root);
  u32(FDT_END);
  const reserveMap = 16;
  const structStart = FDT_HEADER_BYTES + reserveMap;
  const stringsStart = structStart + structure.length;
  const total = stringsStart + strings.length;
  const blob = new Uint8Array(total);
  const view = new DataView(blob.buffer);
  const header = [
    FDT_MAGIC,
    total,
    structStart,
    stringsStart,
    FDT_HEADER_BYTES,
    17,
    16,
    bootCpu,
    strings.length,
    structure.length,
  ];
  header.forEach((v, i) => view.setUint32(4 * i, v, false));
  blob.set(structure, structStart);
  blob.set(strings, stringsStart);
  return blob;
}
