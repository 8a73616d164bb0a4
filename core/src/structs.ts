/**
 * Declarative ABI struct definitions, laid out per data model.
 *
 * Xen's public structs are C structs; the same declaration has a different layout for a
 * 32-bit x86 guest, a 64-bit x86 guest, IA-64 and big-endian PowerPC. hvkit writes each
 * struct once, as data ({@link defineStruct}), with a doc string per field explaining the
 * ABI, and computes the layout per {@link DataModel} the first time it is asked for
 * ({@link StructDef.layout}), following the C rules gcc applies for that target:
 *
 * - each field sits at the next multiple of its alignment; a struct's alignment is its
 *   largest field alignment and its size is rounded up to it; a union's members all sit
 *   at offset 0;
 * - `long`, pointers, guest handles, `xen_pfn_t` and `xen_ulong_t` take their size from
 *   the model, 64-bit integers their alignment inside structs ({@link DataModel.int64Align});
 * - where Xen's common headers leave a hole for the arch (`struct arch_vcpu_info`,
 *   `struct arch_shared_info`, `xen_callback_t`), the common struct declares an
 *   {@link archPart} and the model supplies the type ({@link DataModel.archParts}).
 *
 * The core knows no data model by name: each arch plugin contributes its own
 * (`ArchPlugin.dataModel`), so a new port defines its model in its own package and every
 * common struct lays itself out for it. Layouts are cached per model object.
 *
 * Paths name a field from the struct's top: names joined by dots, array elements by their
 * index as a path segment (`"vcpu_info.3.evtchn_upcall_mask"`, `"evtchn_pending.0"`,
 * `"console.domU.mfn"`). `vcpu_info[3].evtchn_upcall_mask` is accepted too.
 *
 * Accessors take a `DataView` and a byte `base` (e.g. {@link PhysicalMemory.view} and a
 * machine address), so a struct is read where it lies in guest memory without copying.
 * Each resolved path is cached per layout; a `get`/`set` after the first is one map lookup
 * and one `DataView` access. Hot code can also take {@link StructLayout.offsetOf} once and
 * use the view directly.
 *
 * @module
 */
import { StructPathError } from "./errors.js";
import type { PhysicalMemory } from "./memory.js";

/**
 * The holes Xen's common headers leave for each arch to fill, as the arch's data model
 * fills them. A common struct names one with {@link archPart}; sources are xen.h (the
 * `arch` members of `struct vcpu_info` and `struct shared_info`), callback.h
 * (`xen_callback_t`, which each arch header typedefs) and domctl.h (`struct
 * xen_arch_domainconfig`).
 */
export interface ArchParts {
  /**
   * `struct arch_vcpu_info`: the arch state in every vCPU's vcpu_info (x86: the page-fault
   * address CR2, padded so vcpu_info is 64 bytes). May be an empty struct (size 0, as GNU C
   * lays out `struct {}`), as on IA-64 and PowerPC.
   */
  readonly archVcpuInfo: StructDef;
  /**
   * `struct arch_shared_info`: the arch tail of shared_info (x86: the guest's p2m
   * description for toolstacks; PowerPC: the boot timebase).
   */
  readonly archSharedInfo: StructDef;
  /**
   * `xen_callback_t`: how a callback entry point is given to CALLBACKOP_register (x86_32:
   * a `{cs, eip}` far pointer; most arches: an `unsigned long` address).
   */
  readonly xenCallback: FieldType;
  /**
   * `struct xen_arch_domainconfig`: the arch part of domctl createdomain's and
   * getdomaininfo's configuration (x86: emulation and MSR flags). Empty where the arch has
   * none.
   */
  readonly archDomainConfig: StructDef;
}

/** A size the arch's public headers state for one struct in a data model. */
export interface PublishedSize {
  /** The struct. */
  readonly struct: StructDef;
  /** `sizeof` as the headers (or their BUILD_BUG_ONs) give it, in bytes. */
  readonly size: number;
}

/**
 * A C data model Xen's public structs are laid out in, contributed by an arch plugin
 * (`ArchPlugin.dataModel`). It fixes what C leaves to the target (type widths, 64-bit
 * alignment, byte order) and everything of Xen's ABI that differs per arch: the arch parts
 * of the common structs, the number of vcpu_info slots in shared_info, where the wall
 * clock's high word lives, and the arch's own structs (its `vcpu_guest_context` first).
 *
 * A porter writes one per guest ABI (x86 has two: `x86_32` and `x86_64`), from the arch's
 * public header (`xen/include/public/arch-<arch>.h`) and its psABI; the arch package's
 * golden-layout test then checks every common struct and every struct in
 * {@link DataModel.structs} against gcc where a compiler for the target exists. Layouts
 * are computed once per model object, so a model must be created once and not mutated.
 */
export interface DataModel {
  /**
   * The model's name (e.g. `x86_64`, `x86_32`, `ppc64`): names layouts in messages and
   * golden data. Unique among the models hvkit loads.
   */
  readonly name: string;
  /** True for little-endian byte order. */
  readonly littleEndian: boolean;
  /** `sizeof(long)` (also its alignment). */
  readonly long: 4 | 8;
  /** `sizeof(void *)` (also its alignment). */
  readonly pointer: 4 | 8;
  /**
   * `sizeof(XEN_GUEST_HANDLE(T))`: a struct wrapping one pointer on most arches; PowerPC
   * Xen padded every handle to 8 bytes so 32-bit and 64-bit guests share one layout.
   */
  readonly handle: 4 | 8;
  /** `sizeof(xen_pfn_t)`: `unsigned long` on x86 and IA-64; 8 bytes on PowerPC. */
  readonly xenPfn: 4 | 8;
  /**
   * `sizeof(xen_ulong_t)`: `unsigned long` on x86 and IA-64; `uint64_t` on PowerPC. Also
   * the event-channel word of the 2-level ABI: shared_info holds `xenUlong * 8` pending
   * and mask words of `xenUlong * 8` bits each, so a domain has `(xenUlong * 8)²` ports.
   */
  readonly xenUlong: 4 | 8;
  /** Alignment of 64-bit integers inside structs: 4 on i386 System V, 8 elsewhere. */
  readonly int64Align: 4 | 8;
  /**
   * `XEN_LEGACY_MAX_VCPUS`: how many vcpu_info slots shared_info holds (32 on x86 and
   * PowerPC, 64 on IA-64). vCPUs beyond it have no vcpu_info until they register one.
   */
  readonly legacyMaxVcpus: number;
  /**
   * True when shared_info's `wc_sec_hi` (the wall clock's high 32 seconds bits) lives in
   * the arch part (`arch.wc_sec_hi`) rather than after `wc_nsec`: only 32-bit x86 does
   * this, for lack of room in its common part. The arch's
   * {@link ArchParts.archSharedInfo} must then have a `wc_sec_hi` field.
   */
  readonly wcSecHiInArch: boolean;
  /** The types that fill the common structs' arch holes. */
  readonly archParts: ArchParts;
  /**
   * The arch's `struct vcpu_guest_context` (VCPUOP_initialise, domctl
   * get/setvcpucontext), laid out in this model. Absent while a port has not defined it.
   */
  readonly vcpuGuestContext?: StructDef;
  /**
   * The entry of the domain memory map XENMEM_memory_map returns and XENMEM_set_memory_map
   * takes (x86: `struct e820entry`, with `addr`, `size` and `type`), where the arch has one
   * (its memoryOp hook implements both operations); absent where it has none, and then both
   * operations are −ENOSYS.
   */
  readonly memoryMapEntry?: StructDef;
  /**
   * Every named struct of the arch's own ABI in this model (the arch parts, the
   * vcpu_guest_context and whatever the arch's hypercalls take), each once. With the common
   * catalog (`ABI_STRUCTS`) this is what the golden-layout test checks for the model.
   */
  readonly structs: readonly StructDef[];
  /**
   * Sizes the arch's headers publish for structs in this model (start_info, vcpu_info,
   * vcpu_guest_context ...). The conformance suite checks each against the layout, so a
   * model that drifts from its ABI fails where a guest would.
   */
  readonly publishedSizes: readonly PublishedSize[];
}

/** The members of a {@link DataModel} that fix C type widths and 64-bit alignment. */
export type DataModelWidths = Pick<
  DataModel,
  "long" | "pointer" | "handle" | "xenPfn" | "xenUlong" | "int64Align"
>;

/**
 * The widths of an LP64 target as Xen's headers use them (x86_64, IA-64, 64-bit PowerPC):
 * `long`, pointers, guest handles, `xen_pfn_t` and `xen_ulong_t` 8 bytes, 64-bit integers
 * 8-aligned. A model spreads it (`{ name, littleEndian, ...LP64_WIDTHS, ... }`).
 */
export const LP64_WIDTHS: Readonly<DataModelWidths> = {
  long: 8,
  pointer: 8,
  handle: 8,
  xenPfn: 8,
  xenUlong: 8,
  int64Align: 8,
};

// ---------------------------------------------------------------------------------------
// Field types

/** Sizes of integers whose width depends on the data model. */
export type ModelWidth = "long" | "pointer" | "handle" | "xen_pfn" | "xen_ulong";

/** An integer field: fixed width, or a width the data model decides. */
export interface IntType {
  /** Discriminant. */
  readonly kind: "int";
  /** Width in bytes, or the model-dependent C type it has the width of. */
  readonly width: 1 | 2 | 4 | 8 | ModelWidth;
  /** True for a signed (two's complement) integer. */
  readonly signed: boolean;
}

/** `char name[length]`: text, NUL-terminated when shorter than the array. */
export interface CharsType {
  /** Discriminant. */
  readonly kind: "chars";
  /** Number of bytes. */
  readonly length: number;
}

/** `T name[length]`: a fixed-size array. */
export interface ArrayType {
  /** Discriminant. */
  readonly kind: "array";
  /** The element type. */
  readonly element: FieldType;
  /** Number of elements. */
  readonly length: number;
}

/** Explicit unnamed padding bytes (a field of this type cannot be read or written). */
export interface PadType {
  /** Discriminant. */
  readonly kind: "pad";
  /** Bytes of padding (alignment 1). */
  readonly bytes: number;
}

/** A type whose minimum alignment is raised, as gcc's `__attribute__((aligned(n)))`. */
export interface AlignedType {
  /** Discriminant. */
  readonly kind: "aligned";
  /** The underlying type. */
  readonly type: FieldType;
  /** Minimum alignment in bytes. */
  readonly align: number;
}

/**
 * A hole for the arch: the field's type is the data model's {@link DataModel.archParts}
 * member `part` (e.g. the `arch` member of vcpu_info is `archPart("archVcpuInfo")`).
 */
export interface ArchPartType {
  /** Discriminant. */
  readonly kind: "arch-part";
  /** Which of the model's arch parts fills the hole. */
  readonly part: keyof ArchParts;
}

/** Any field type: scalars, text, arrays, padding, nested structs/unions ({@link StructDef}). */
export type FieldType =
  IntType | CharsType | ArrayType | PadType | AlignedType | ArchPartType | StructDef;

/** One field of a struct: its type and the prose explaining it. */
export interface FieldSpec {
  /** The field's type. */
  readonly type: FieldType;
  /** What the field means in the ABI (who writes it, when, in what unit). */
  readonly doc: string;
}

/** A struct's fields in declaration order (object key order is preserved). */
export type FieldMap = Readonly<Record<string, FieldSpec>>;

/**
 * Fields, either the same in every model or computed from the model (array lengths such
 * as {@link DataModel.legacyMaxVcpus}, or an arch's 32- and 64-bit register files).
 */
export type FieldsSource = FieldMap | ((model: DataModel) => FieldMap);

function int(width: IntType["width"], signed: boolean): IntType {
  return { kind: "int", width, signed };
}

/** `uint8_t`. */
export const u8: IntType = int(1, false);
/** `uint16_t`. */
export const u16: IntType = int(2, false);
/** `uint32_t`. */
export const u32: IntType = int(4, false);
/** `uint64_t` (aligned inside structs to the model's {@link DataModel.int64Align}). */
export const u64: IntType = int(8, false);
/** `int8_t`. */
export const i8: IntType = int(1, true);
/** `int16_t`. */
export const i16: IntType = int(2, true);
/** `int32_t`. */
export const i32: IntType = int(4, true);
/** `int64_t` (aligned inside structs to the model's {@link DataModel.int64Align}). */
export const i64: IntType = int(8, true);
/** C `unsigned long`. */
export const ulong: IntType = int("long", false);
/** C `long`. */
export const long: IntType = int("long", true);
/** A guest pointer (a guest virtual address), `void *` sized. */
export const pointer: IntType = int("pointer", false);
/** `XEN_GUEST_HANDLE(T)`: a guest virtual address the hypervisor copies to/from. */
export const handle: IntType = int("handle", false);
/** `xen_pfn_t`: a (pseudo-)physical or machine frame number. */
export const xenPfn: IntType = int("xen_pfn", false);
/** `xen_ulong_t`: an unsigned long that stays 64-bit where the arch wants one layout. */
export const xenUlong: IntType = int("xen_ulong", false);
/** `domid_t` (`uint16_t`). */
export const domid: IntType = u16;
/** `grant_ref_t` (`uint32_t`). */
export const grantRef: IntType = u32;
/** `evtchn_port_t` (`uint32_t`). */
export const evtchnPort: IntType = u32;

/** `char name[length]`. */
export function chars(length: number): CharsType {
  return { kind: "chars", length };
}

/** `element name[length]`. */
export function array(element: FieldType, length: number): ArrayType {
  return { kind: "array", element, length };
}

/** `bytes` of explicit padding (only where C has an unnamed gap or a `pad` array nobody reads). */
export function pad(bytes: number): PadType {
  return { kind: "pad", bytes };
}

/** `type` with `__attribute__((aligned(align)))` (e.g. Xen's `uint64_aligned_t`). */
export function aligned(type: FieldType, align: number): AlignedType {
  return { kind: "aligned", type, align };
}

/** A hole the data model fills with its arch part `part` (see {@link ArchParts}). */
export function archPart(part: keyof ArchParts): ArchPartType {
  return { kind: "arch-part", part };
}

/** A field: its type and its documentation. */
export function field(type: FieldType, doc: string): FieldSpec {
  return { type, doc };
}

// ---------------------------------------------------------------------------------------
// Definitions and layouts

/** Options of {@link defineStruct}. */
export interface StructOptions {
  /** `__attribute__((packed))`: no padding, alignment 1. */
  readonly packed?: boolean;
}

/**
 * One C struct (or union) declared once for all data models. Usable as a field type
 * (a nested struct). Create with {@link defineStruct}, {@link defineUnion},
 * {@link struct} or {@link union}.
 */
export class StructDef {
  /** Discriminant, so a StructDef is a {@link FieldType}. */
  readonly kind = "record";
  private readonly layouts = new WeakMap<DataModel, StructLayout>();

  /**
   * @param name - the C name (`start_info`), used in messages and golden data.
   * @param doc - what the struct is for.
   * @param source - the fields.
   * @param isUnion - true for a C union (all members at offset 0).
   * @param packed - true for `__attribute__((packed))`.
   */
  constructor(
    readonly name: string,
    readonly doc: string,
    private readonly source: FieldsSource,
    readonly isUnion: boolean,
    readonly packed: boolean,
  ) {}

  /** True when no member depends on the data model (see {@link fixedLayout}). */
  isFixed(): boolean {
    return (
      typeof this.source !== "function" && Object.values(this.source).every((f) => isFixed(f.type))
    );
  }

  /** The fields as declared for `model`. */
  fields(model: DataModel): FieldMap {
    return typeof this.source === "function" ? this.source(model) : this.source;
  }

  /** The layout in `model`, computed on first use and cached. */
  layout(model: DataModel): StructLayout {
    let l = this.layouts.get(model);
    if (l === undefined) {
      l = new StructLayout(this, model, layoutRecord(this, model));
      this.layouts.set(model, l);
    }
    return l;
  }
}

/**
 * The layout of a struct none of whose members depends on the data model (fixed-width
 * integers, text, padding and such structs only: no `long`, pointer, handle, `xen_pfn_t`,
 * `xen_ulong_t` or arch part) in the given byte order: for wire formats that are the same
 * for every guest ABI but its byte order (xenstore's `xsd_sockmsg`). Throws
 * {@link StructPathError} for a struct that has a model-dependent member.
 */
export function fixedLayout(def: StructDef, littleEndian: boolean): StructLayout {
  if (!isFixed(def)) {
    throw new StructPathError(`${def.name}: a member's layout depends on the data model`);
  }
  return def.layout(littleEndian ? FIXED_LE : FIXED_BE);
}

function isFixed(type: FieldType): boolean {
  switch (type.kind) {
    case "int":
      return typeof type.width === "number";
    case "chars":
    case "pad":
      return true;
    case "array":
      return isFixed(type.element);
    case "aligned":
      return isFixed(type.type);
    case "arch-part":
      return false;
    case "record":
      return type.isFixed();
  }
}

/** Declares a named C struct. */
export function defineStruct(
  name: string,
  doc: string,
  fields: FieldsSource,
  options: StructOptions = {},
): StructDef {
  return new StructDef(name, doc, fields, false, options.packed === true);
}

/** Declares a named C union. */
export function defineUnion(name: string, doc: string, fields: FieldsSource): StructDef {
  return new StructDef(name, doc, fields, true, false);
}

/** An anonymous struct type used inline as a field type. */
export function struct(fields: FieldsSource): StructDef {
  return new StructDef("", "", fields, false, false);
}

/** An anonymous union type used inline as a field type. */
export function union(fields: FieldsSource): StructDef {
  return new StructDef("", "", fields, true, false);
}

/** How a resolved field is accessed. */
export enum SlotKind {
  /** Unsigned 8-bit integer. */
  U8 = 0,
  /** Signed 8-bit integer. */
  I8 = 1,
  /** Unsigned 16-bit integer. */
  U16 = 2,
  /** Signed 16-bit integer. */
  I16 = 3,
  /** Unsigned 32-bit integer. */
  U32 = 4,
  /** Signed 32-bit integer. */
  I32 = 5,
  /** Unsigned 64-bit integer (read as bigint). */
  U64 = 6,
  /** Signed 64-bit integer (read as bigint). */
  I64 = 7,
  /** A `char[N]` (read with getString/setString). */
  Chars = 8,
  /** A struct, union, array or padding (only offset and size are meaningful). */
  Aggregate = 9,
}

/** A field resolved in one layout: where it is and how to access it. */
export interface FieldSlot {
  /** The path it was resolved from (normalised to dots). */
  readonly path: string;
  /** Byte offset from the start of the struct. */
  readonly offset: number;
  /** Size in bytes. */
  readonly size: number;
  /** How to read and write it. */
  readonly kind: SlotKind;
}

/** One node of a laid-out type tree (what {@link StructLayout} resolves paths through). */
export interface LayoutNode {
  /** Size in bytes. */
  readonly size: number;
  /** Alignment in bytes. */
  readonly align: number;
  /** How a field of this type is accessed. */
  readonly kind: SlotKind;
  /** Named members of a struct or union, with their offsets. */
  readonly children?: ReadonlyMap<string, { readonly offset: number; readonly node: LayoutNode }>;
  /** The element of an array. */
  readonly element?: LayoutNode;
  /** The element count of an array. */
  readonly length?: number;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

function intKind(size: number, signed: boolean): SlotKind {
  switch (size) {
    case 1:
      return signed ? SlotKind.I8 : SlotKind.U8;
    case 2:
      return signed ? SlotKind.I16 : SlotKind.U16;
    case 4:
      return signed ? SlotKind.I32 : SlotKind.U32;
    default:
      return signed ? SlotKind.I64 : SlotKind.U64;
  }
}

function layoutType(type: FieldType, model: DataModel): LayoutNode {
  switch (type.kind) {
    case "int": {
      const w = type.width;
      const size =
        typeof w === "number"
          ? w
          : w === "long"
            ? model.long
            : w === "pointer"
              ? model.pointer
              : w === "handle"
                ? model.handle
                : w === "xen_pfn"
                  ? model.xenPfn
                  : model.xenUlong;
      return {
        size,
        align: size === 8 ? model.int64Align : size,
        kind: intKind(size, type.signed),
      };
    }
    case "chars":
      return { size: type.length, align: 1, kind: SlotKind.Chars };
    case "pad":
      return { size: type.bytes, align: 1, kind: SlotKind.Aggregate };
    case "array": {
      const element = layoutType(type.element, model);
      return {
        size: element.size * type.length,
        align: element.align,
        kind: SlotKind.Aggregate,
        element,
        length: type.length,
      };
    }
    case "aligned": {
      const inner = layoutType(type.type, model);
      const align = Math.max(inner.align, type.align);
      return { ...inner, align, size: alignUp(inner.size, align) };
    }
    case "arch-part":
      return layoutType(model.archParts[type.part], model);
    case "record":
      return type.layout(model).root;
  }
}

function layoutRecord(def: StructDef, model: DataModel): LayoutNode {
  const children = new Map<string, { offset: number; node: LayoutNode }>();
  let end = 0;
  let align = 1;
  for (const [name, spec] of Object.entries(def.fields(model))) {
    if (/^\d+$/.test(name) || name.includes("."))
      throw new StructPathError(`${def.name}: bad field name "${name}"`);
    const node = layoutType(spec.type, model);
    const a = def.packed ? 1 : node.align;
    const offset = def.isUnion ? 0 : alignUp(end, a);
    children.set(name, { offset, node });
    end = Math.max(end, offset + node.size);
    align = Math.max(align, a);
  }
  return { size: alignUp(end, align), align, kind: SlotKind.Aggregate, children };
}

const latin1 = new TextDecoder("latin1");

/**
 * A struct laid out in one data model: sizes, offsets and byte-order-aware accessors.
 * Obtain with {@link StructDef.layout}.
 */
export class StructLayout {
  /** Total size in bytes (`sizeof`). */
  readonly size: number;
  /** Alignment in bytes (`_Alignof`). */
  readonly align: number;
  /** True when multi-byte fields are little-endian. */
  readonly littleEndian: boolean;
  private readonly slots = new Map<string, FieldSlot>();

  /**
   * @param def - the definition this is a layout of.
   * @param model - the data model.
   * @param root - the laid-out type tree.
   */
  constructor(
    readonly def: StructDef,
    readonly model: DataModel,
    readonly root: LayoutNode,
  ) {
    this.size = root.size;
    this.align = root.align;
    this.littleEndian = model.littleEndian;
  }

  /** Resolves `path` (cached). Throws {@link StructPathError} if it names no field. */
  slot(path: string): FieldSlot {
    const s = this.slots.get(path);
    return s !== undefined ? s : this.resolve(path);
  }

  private resolve(path: string): FieldSlot {
    const norm = path.replace(/\[(\d+)\]/g, ".$1");
    let node = this.root;
    let offset = 0;
    if (norm !== "") {
      for (const seg of norm.split(".")) {
        if (node.children !== undefined) {
          const c = node.children.get(seg);
          if (c === undefined)
            throw new StructPathError(
              `${this.def.name} (${this.model.name}): no field "${seg}" in path "${path}"`,
            );
          offset += c.offset;
          node = c.node;
        } else if (node.element !== undefined && /^\d+$/.test(seg) && Number(seg) < node.length!) {
          offset += Number(seg) * node.element.size;
          node = node.element;
        } else {
          throw new StructPathError(
            `${this.def.name} (${this.model.name}): cannot resolve "${seg}" in path "${path}"`,
          );
        }
      }
    }
    const slot: FieldSlot = { path: norm, offset, size: node.size, kind: node.kind };
    this.slots.set(path, slot);
    return slot;
  }

  /** Byte offset of the field at `path` (`offsetof`); `""` is the struct itself (0). */
  offsetOf(path: string): number {
    return this.slot(path).offset;
  }

  /** Size in bytes of the field at `path` (an array element's size is the array's stride). */
  sizeOf(path: string): number {
    return this.slot(path).size;
  }

  /**
   * Reads the integer at `path` from the struct at `base` in `view`: a number for fields
   * of up to 32 bits, a bigint for 64-bit fields (so `unsigned long` is a number on
   * x86_32 and a bigint on the LP64 models; see {@link StructLayout.getBigInt} and
   * {@link StructLayout.getNumber} for model-neutral code).
   */
  get(view: DataView, base: number, path: string): number | bigint {
    const s = this.slot(path);
    const a = base + s.offset;
    const le = this.littleEndian;
    switch (s.kind) {
      case SlotKind.U8:
        return view.getUint8(a);
      case SlotKind.I8:
        return view.getInt8(a);
      case SlotKind.U16:
        return view.getUint16(a, le);
      case SlotKind.I16:
        return view.getInt16(a, le);
      case SlotKind.U32:
        return view.getUint32(a, le);
      case SlotKind.I32:
        return view.getInt32(a, le);
      case SlotKind.U64:
        return view.getBigUint64(a, le);
      case SlotKind.I64:
        return view.getBigInt64(a, le);
      default:
        throw new StructPathError(
          `${this.def.name} (${this.model.name}): "${path}" is not an integer field`,
        );
    }
  }

  /** Reads any integer field as a bigint (widened; signed fields sign-extended). */
  getBigInt(view: DataView, base: number, path: string): bigint {
    const v = this.get(view, base, path);
    return typeof v === "bigint" ? v : BigInt(v);
  }

  /** Reads any integer field as a number (64-bit values above 2^53 lose precision). */
  getNumber(view: DataView, base: number, path: string): number {
    const v = this.get(view, base, path);
    return typeof v === "bigint" ? Number(v) : v;
  }

  /**
   * Writes the integer at `path`. Accepts a number or a bigint for any integer field;
   * the value is truncated to the field's width (two's complement), as a C store is.
   */
  set(view: DataView, base: number, path: string, value: number | bigint): void {
    const s = this.slot(path);
    const a = base + s.offset;
    const le = this.littleEndian;
    switch (s.kind) {
      case SlotKind.U8:
      case SlotKind.I8:
        view.setUint8(
          a,
          typeof value === "number" ? value & 0xff : Number(BigInt.asUintN(8, value)),
        );
        return;
      case SlotKind.U16:
      case SlotKind.I16:
        view.setUint16(
          a,
          typeof value === "number" ? value & 0xffff : Number(BigInt.asUintN(16, value)),
          le,
        );
        return;
      case SlotKind.U32:
      case SlotKind.I32:
        view.setUint32(
          a,
          typeof value === "number" ? value >>> 0 : Number(BigInt.asUintN(32, value)),
          le,
        );
        return;
      case SlotKind.U64:
      case SlotKind.I64:
        view.setBigUint64(a, BigInt.asUintN(64, BigInt(value)), le);
        return;
      default:
        throw new StructPathError(
          `${this.def.name} (${this.model.name}): "${path}" is not an integer field`,
        );
    }
  }

  /**
   * Reads a `char[N]` field as text: bytes up to the first NUL (or all N), each byte one
   * character (Latin-1, so any byte sequence round-trips).
   */
  getString(view: DataView, base: number, path: string): string {
    const s = this.charsSlot(path);
    const bytes = new Uint8Array(view.buffer, view.byteOffset + base + s.offset, s.size);
    const nul = bytes.indexOf(0);
    return latin1.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
  }

  /**
   * Writes `text` into a `char[N]` field: at most N−1 characters (low byte of each char
   * code), then NUL, and the rest of the array zeroed — so the field always ends in NUL,
   * as Xen's strlcpy-style copies into start_info leave it.
   */
  setString(view: DataView, base: number, path: string, text: string): void {
    const s = this.charsSlot(path);
    const a = base + s.offset;
    const n = Math.min(text.length, s.size - 1);
    for (let i = 0; i < s.size; i++) view.setUint8(a + i, i < n ? text.charCodeAt(i) & 0xff : 0);
  }

  private charsSlot(path: string): FieldSlot {
    const s = this.slot(path);
    if (s.kind !== SlotKind.Chars)
      throw new StructPathError(
        `${this.def.name} (${this.model.name}): "${path}" is not a char array`,
      );
    return s;
  }

  /**
   * Every named field path, depth first in declaration order. Arrays of structs are
   * listed with element 0 expanded (`"vcpu_info.0.time.version"`) plus the last element
   * itself (`"vcpu_info.31"`); arrays of scalars by the array path only.
   */
  paths(): string[] {
    const out: string[] = [];
    const walk = (node: LayoutNode, prefix: string): void => {
      if (node.children !== undefined) {
        for (const [name, c] of node.children) {
          const p = prefix === "" ? name : `${prefix}.${name}`;
          out.push(p);
          walk(c.node, p);
        }
      } else if (
        node.element !== undefined &&
        node.element.children !== undefined &&
        node.length! > 0
      ) {
        out.push(`${prefix}.0`);
        walk(node.element, `${prefix}.0`);
        if (node.length! > 1) out.push(`${prefix}.${node.length! - 1}`);
      }
    };
    walk(this.root, "");
    return out;
  }
}

/**
 * Convenience for code that works on {@link PhysicalMemory}: the layout's accessors bound
 * to one struct at machine address `base`.
 */
export function structAt(layout: StructLayout, memory: PhysicalMemory, base: number): StructRef {
  return new StructRef(layout, memory.view, base);
}

/** One struct instance: a layout, a view and a base address. */
export class StructRef {
  /**
   * @param layout - the struct's layout.
   * @param view - the memory it lives in.
   * @param base - its byte offset in `view`.
   */
  constructor(
    readonly layout: StructLayout,
    readonly view: DataView,
    readonly base: number,
  ) {}

  /** See {@link StructLayout.get}. */
  get(path: string): number | bigint {
    return this.layout.get(this.view, this.base, path);
  }
  /** See {@link StructLayout.getBigInt}. */
  getBigInt(path: string): bigint {
    return this.layout.getBigInt(this.view, this.base, path);
  }
  /** See {@link StructLayout.getNumber}. */
  getNumber(path: string): number {
    return this.layout.getNumber(this.view, this.base, path);
  }
  /** See {@link StructLayout.set}. */
  set(path: string, value: number | bigint): void {
    this.layout.set(this.view, this.base, path, value);
  }
  /** See {@link StructLayout.getString}. */
  getString(path: string): string {
    return this.layout.getString(this.view, this.base, path);
  }
  /** See {@link StructLayout.setString}. */
  setString(path: string, text: string): void {
    this.layout.setString(this.view, this.base, path, text);
  }
}

const FIXED_PARTS: ArchParts = {
  archVcpuInfo: struct({}),
  archSharedInfo: struct({}),
  xenCallback: struct({}),
  archDomainConfig: struct({}),
};

/** The models {@link fixedLayout} lays model-independent structs out in (widths unused). */
const fixedModel = (name: string, littleEndian: boolean): DataModel => ({
  name,
  littleEndian,
  ...LP64_WIDTHS,
  legacyMaxVcpus: 0,
  wcSecHiInArch: false,
  archParts: FIXED_PARTS,
  structs: [],
  publishedSizes: [],
});
const FIXED_LE = fixedModel("fixed-le", true);
const FIXED_BE = fixedModel("fixed-be", false);
