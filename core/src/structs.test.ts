import { describe, expect, it } from "vitest";
import {
  array,
  chars,
  defineStruct,
  defineUnion,
  field,
  handle,
  i16,
  i64,
  pad,
  archPart,
  u16,
  u32,
  u64,
  u8,
  ulong,
  xenPfn,
  aligned,
  SlotKind,
  structAt,
  fixedLayout,
} from "./structs.js";
import { StructPathError } from "./errors.js";
import { PhysicalMemory } from "./memory.js";
import { TEST_LP64_LE, TEST_LP64_BE, TEST_ILP32 } from "./testing/data-models.js";

// A toy struct exercising every rule: 64-bit alignment per model, long/handle widths,
// nested union, array of structs, char array, padding, an arch hole.
const INNER = defineStruct("inner", "test", {
  a: field(u8, "a"),
  b: field(u64, "b"),
});
const U = defineUnion("u", "test", {
  small: field(u16, "small"),
  big: field(array(u32, 3), "big"),
});
const TOY = defineStruct("toy", "test", {
  c: field(u8, "c"),
  q: field(u64, "q aligns to 4 on x86_32, 8 elsewhere"),
  l: field(ulong, "long"),
  h: field(handle, "guest handle"),
  s: field(i16, "signed"),
  u: field(U, "union"),
  inner: field(array(INNER, 2), "array of structs"),
  name: field(chars(8), "text"),
  gap: field(pad(3), "padding"),
  pm: field(archPart("xenCallback"), "the model's xen_callback_t"),
  pfn: field(xenPfn, "pfn"),
  al: field(aligned(i64, 8), "aligned 8 everywhere"),
});

describe("struct layout rules", () => {
  it("lays out ILP32 with 4-byte alignment of 64-bit ints", () => {
    const l = TOY.layout(TEST_ILP32);
    expect(l.offsetOf("q")).toBe(4);
    expect(l.offsetOf("l")).toBe(12);
    expect(l.sizeOf("l")).toBe(4);
    expect(l.offsetOf("h")).toBe(16);
    expect(l.offsetOf("s")).toBe(20);
    expect(l.offsetOf("u")).toBe(24); // union of u16 and u32[3]: size 12, align 4
    expect(l.sizeOf("u")).toBe(12);
    expect(l.offsetOf("u.big.2")).toBe(32);
    expect(l.sizeOf("inner.0")).toBe(12); // inner: u8 @0, u64 @4 -> 12
    expect(l.offsetOf("inner.1.b")).toBe(36 + 12 + 4);
    expect(l.offsetOf("inner[1].b")).toBe(52);
    expect(l.offsetOf("name")).toBe(60);
    expect(l.offsetOf("gap")).toBe(68);
    expect(l.offsetOf("pm")).toBe(72); // the model's {cs, ip}: 8 bytes, aligned 4
    expect(l.offsetOf("pm.ip")).toBe(76);
    expect(l.offsetOf("pfn")).toBe(80);
    expect(l.offsetOf("al")).toBe(88);
    expect(l.align).toBe(8);
    expect(l.size).toBe(96);
  });

  it("lays out LP64 with natural alignment", () => {
    const l = TOY.layout(TEST_LP64_LE);
    expect(l.offsetOf("q")).toBe(8);
    expect(l.offsetOf("l")).toBe(16);
    expect(l.offsetOf("h")).toBe(24);
    expect(l.offsetOf("s")).toBe(32);
    expect(l.offsetOf("u")).toBe(36);
    expect(l.offsetOf("inner")).toBe(48);
    expect(l.sizeOf("inner.0")).toBe(16);
    expect(l.offsetOf("name")).toBe(80);
    expect(l.offsetOf("gap")).toBe(88);
    expect(l.offsetOf("pm")).toBe(96); // the model's unsigned long
    expect(l.sizeOf("pm")).toBe(8);
    expect(l.offsetOf("pfn")).toBe(104);
    expect(l.size).toBe(120);
  });

  it("caches layouts per model", () => {
    expect(TOY.layout(TEST_ILP32)).toBe(TOY.layout(TEST_ILP32));
    expect(TOY.layout(TEST_ILP32)).not.toBe(TOY.layout(TEST_LP64_LE));
  });

  it("reads and writes in the model's byte order", () => {
    const buf = new DataView(new ArrayBuffer(256));
    const be = TOY.layout(TEST_LP64_BE);
    be.set(buf, 16, "q", 0x0102030405060708n);
    expect(buf.getUint8(16 + 8)).toBe(1);
    expect(be.get(buf, 16, "q")).toBe(0x0102030405060708n);
    be.set(buf, 16, "s", -2);
    expect(be.get(buf, 16, "s")).toBe(-2);
    expect(buf.getUint8(16 + be.offsetOf("s"))).toBe(0xff);
    const le = TOY.layout(TEST_LP64_LE);
    le.set(buf, 0, "u.big.1", 0x11223344);
    expect(buf.getUint8(le.offsetOf("u.big.1"))).toBe(0x44);
    expect(le.get(buf, 0, "u.big.1")).toBe(0x11223344);
  });

  it("returns number for <=32-bit fields and bigint for 64-bit ones, per model", () => {
    const buf = new DataView(new ArrayBuffer(256));
    TOY.layout(TEST_ILP32).set(buf, 0, "l", 0xfffffffffn);
    expect(TOY.layout(TEST_ILP32).get(buf, 0, "l")).toBe(0xffffffff);
    TOY.layout(TEST_LP64_LE).set(buf, 0, "l", -1);
    expect(TOY.layout(TEST_LP64_LE).get(buf, 0, "l")).toBe(0xffffffffffffffffn);
    expect(TOY.layout(TEST_LP64_LE).getNumber(buf, 0, "s")).toBe(0);
    expect(TOY.layout(TEST_ILP32).getBigInt(buf, 0, "l")).toBe(0xffffffffn);
  });

  it("truncates stores to the field width", () => {
    const buf = new DataView(new ArrayBuffer(256));
    const l = TOY.layout(TEST_LP64_LE);
    l.set(buf, 0, "c", 0x1ff);
    expect(l.get(buf, 0, "c")).toBe(0xff);
    l.set(buf, 0, "u.small", 0x12345);
    expect(l.get(buf, 0, "u.small")).toBe(0x2345);
    expect(l.get(buf, 0, "u.big.0")).toBe(0x2345); // union members overlap
  });

  it("reads and writes char arrays as NUL-terminated text", () => {
    const buf = new DataView(new ArrayBuffer(256));
    const l = TOY.layout(TEST_LP64_LE);
    l.setString(buf, 0, "name", "abcdefghij");
    expect(l.getString(buf, 0, "name")).toBe("abcdefg");
    expect(buf.getUint8(l.offsetOf("name") + 7)).toBe(0);
    l.setString(buf, 0, "name", "x");
    expect(l.getString(buf, 0, "name")).toBe("x");
    expect(buf.getUint8(l.offsetOf("name") + 2)).toBe(0);
  });

  it("rejects bad paths and wrong accessors with StructPathError", () => {
    const l = TOY.layout(TEST_LP64_LE);
    expect(() => l.offsetOf("nope")).toThrow(StructPathError);
    expect(() => l.offsetOf("inner.2")).toThrow(StructPathError);
    expect(() => l.offsetOf("c.x")).toThrow(StructPathError);
    expect(() => l.get(new DataView(new ArrayBuffer(256)), 0, "name")).toThrow(StructPathError);
    expect(() => l.getString(new DataView(new ArrayBuffer(256)), 0, "c")).toThrow(StructPathError);
    expect(l.slot("inner").kind).toBe(SlotKind.Aggregate);
  });

  it("lays out packed structs without padding", () => {
    const P = defineStruct(
      "p",
      "t",
      { a: field(u8, "a"), b: field(u64, "b"), c: field(u32, "c") },
      { packed: true },
    );
    expect(P.layout(TEST_LP64_LE).offsetOf("b")).toBe(1);
    expect(P.layout(TEST_LP64_LE).size).toBe(13);
  });

  it("lists paths with arrays of structs expanded at element 0", () => {
    expect(TOY.layout(TEST_LP64_LE).paths()).toContain("inner.0.b");
    expect(TOY.layout(TEST_LP64_LE).paths()).toContain("inner.1");
    expect(TOY.layout(TEST_LP64_LE).paths()).toContain("u.big");
  });
});

describe("fixedLayout", () => {
  const WIRE = defineStruct("wire", "t", {
    a: field(u32, "a"),
    b: field(u16, "b"),
    q: field(u64, "q"),
  });
  it("lays out a model-independent struct in either byte order", () => {
    const be = fixedLayout(WIRE, false);
    const le = fixedLayout(WIRE, true);
    expect(be.offsetOf("q")).toBe(8);
    const v = new DataView(new ArrayBuffer(16));
    be.set(v, 0, "a", 0x01020304);
    expect(v.getUint8(0)).toBe(1);
    le.set(v, 0, "a", 0x01020304);
    expect(v.getUint8(0)).toBe(4);
  });
  it("refuses a struct with a member whose size depends on the model", () => {
    expect(() => fixedLayout(TOY, true)).toThrow(StructPathError);
    const viaFunction = defineStruct("f", "t", () => ({ a: field(u32, "a") }));
    expect(() => fixedLayout(viaFunction, true)).toThrow(/depends on the data model/);
  });
});

describe("StructRef (structAt)", () => {
  it("binds a layout to one struct in machine memory", () => {
    const mem = new PhysicalMemory(4096, 2, "big");
    const ref = structAt(TOY.layout(TEST_LP64_BE), mem, 4096 + 8);
    ref.set("q", 0x1122334455667788n);
    ref.setString("name", "hv");
    expect(mem.bytes[4096 + 8 + TOY.layout(TEST_LP64_BE).offsetOf("q")]).toBe(0x11);
    expect(ref.get("q")).toBe(0x1122334455667788n);
    expect(ref.getNumber("c")).toBe(0);
    expect(ref.getBigInt("s")).toBe(0n);
    expect(ref.getString("name")).toBe("hv");
  });
});
