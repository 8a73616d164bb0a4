import { describe, expect, it } from "vitest";
import { DeviceTreeError, parseDeviceTree, writeDeviceTree } from "./device-tree.js";

/**
 * A version 17 blob written out by hand, word by word, from the format's description:
 * / { model = "x"; memory@0 { reg = <0 0x1000>; }; };
 */
function handBuiltBlob(): Uint8Array {
  // prettier-ignore
  const words = [
    // header: magic, totalsize, off_dt_struct, off_dt_strings, off_mem_rsvmap,
    // version, last_comp_version, boot_cpuid_phys, size_dt_strings, size_dt_struct
    0xd00dfeed, 0, 56, 0, 40, 17, 16, 0, 10, 0,
    // reserve map: one {0, 0} entry (4 words)
    0, 0, 0, 0,
    // structure block, at 56
    1, 0x00000000, // FDT_BEGIN_NODE "" (padded to 4)
    3, 2, 0, 0x78000000, // FDT_PROP len 2 nameoff 0 ("model") "x\0" (padded)
    4, // FDT_NOP
    1, 0x6d656d6f, 0x72794030, 0x00000000, // FDT_BEGIN_NODE "memory@0"
    3, 8, 6, 0, 0x1000, // FDT_PROP len 8 nameoff 6 ("reg") <0 0x1000>
    2, // FDT_END_NODE
    2, // FDT_END_NODE
    9, // FDT_END
  ];
  const structWords = words.length - 14;
  const strings = new TextEncoder().encode("model\0reg\0");
  const blob = new Uint8Array(words.length * 4 + strings.length);
  const view = new DataView(blob.buffer);
  words.forEach((w, i) => view.setUint32(4 * i, w, false));
  blob.set(strings, words.length * 4);
  view.setUint32(4, blob.length, false);
  view.setUint32(12, words.length * 4, false);
  view.setUint32(36, structWords * 4, false);
  return blob;
}

describe("parseDeviceTree", () => {
  it("reads nodes, properties and cells of a hand-built blob", () => {
    const root = parseDeviceTree(handBuiltBlob());
    expect(root.name).toBe("");
    expect(root.string("model")).toBe("x");
    expect(root.children.map((c) => c.name)).toEqual(["memory@0"]);
    const mem = root.find("/memory@0");
    expect(mem?.u32("reg", 1)).toBe(0x1000);
    expect(mem?.u64("reg", 0)).toBe(0x1000n);
    expect(mem?.u64("reg", 1)).toBeUndefined();
    expect(root.find("/nope")).toBeUndefined();
  });

  it("reads back what writeDeviceTree wrote, sharing property names in the strings block", () => {
    const reg = new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2]);
    const blob = writeDeviceTree({
      name: "",
      props: { reg },
      children: [
        { name: "a", props: { reg, empty: new Uint8Array(0) }, children: [{ name: "b@1" }] },
      ],
    });
    const root = parseDeviceTree(blob);
    expect(root.find("/a/b@1")?.name).toBe("b@1");
    expect(root.find("a")?.properties.get("empty")?.length).toBe(0);
    expect(root.find("/a")?.u32("reg", 1)).toBe(2);
    const stringsSize = new DataView(blob.buffer).getUint32(32, false);
    expect(stringsSize).toBe("reg\0empty\0".length);
  });

  it("refuses a bad magic, a cut-off blob, an unknown token and unbalanced nodes, saying where", () => {
    const bad = handBuiltBlob();
    new DataView(bad.buffer).setUint32(0, 0xfeedd00d, false);
    expect(() => parseDeviceTree(bad)).toThrow(DeviceTreeError);
    expect(() => parseDeviceTree(bad)).toThrow(/magic 0xfeedd00d at offset 0/);

    const cut = handBuiltBlob().subarray(0, 80);
    expect(() => parseDeviceTree(cut)).toThrow(/totalsize/);

    const token = handBuiltBlob();
    new DataView(token.buffer).setUint32(56 + 6 * 4, 7, false); // the FDT_NOP
    expect(() => parseDeviceTree(token)).toThrow(/unknown token 0x7 at offset 80/);

    const open = handBuiltBlob();
    new DataView(open.buffer).setUint32(56 + 16 * 4, 4, false); // the last FDT_END_NODE
    expect(() => parseDeviceTree(open)).toThrow(/1 node\(s\) still open/);
  });
});
