import { describe, expect, it } from "vitest";
import { Hypercall, XenFeature, XenVersionOp } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import { copyFromGuest, readGuestU32, readGuestU64, writeGuestU32 } from "../guest-memory.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import type { Domain } from "../domain.js";
import { TEST_ILP32 } from "../testing/data-models.js";

const xv = Hypercall.xen_version;

function readString(d: Domain, va: bigint, size: number): { text: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(size);
  expect(copyFromGuest(d.vcpus[0], va, bytes)).toBe(0);
  const end = bytes.indexOf(0);
  return { text: String.fromCharCode(...bytes.subarray(0, end < 0 ? size : end)), bytes };
}

function setup(arch = {}, config = {}) {
  const { machine } = fakeMachine(arch, config);
  const dom0 = addFakeDomain(machine, { privileged: true });
  const domU = addFakeDomain(machine);
  const hvm = addFakeDomain(machine, { mode: "hvm-vmx" });
  return { machine, dom0, domU, hvm };
}

describe("xen_version", () => {
  it("version is major << 16 | minor (4.19), for everyone", () => {
    const { domU } = setup();
    expect(hypercall(domU, xv, [XenVersionOp.version])).toBe(0x40013);
  });

  it("writes the fixed-size strings, NUL-padded to their full size", () => {
    const { domU } = setup({ capabilities: "xen-3.0-fake xen-3.0-fake32" });
    const cases: [XenVersionOp, number, string][] = [
      [XenVersionOp.extraversion, 16, ".0-hvkit"],
      [XenVersionOp.capabilities, 1024, "xen-3.0-fake xen-3.0-fake32"],
      [XenVersionOp.changeset, 64, "hvkit"],
    ];
    for (const [op, size, want] of cases) {
      writeGuestU32(domU.vcpus[0], DATA_VA + BigInt(size) - 4n, 0xffffffff); // must be overwritten
      expect(hypercall(domU, xv, [op, DATA_VA])).toBe(0);
      const { text, bytes } = readString(domU, DATA_VA, size);
      expect(text).toBe(want);
      expect(bytes.subarray(want.length).every((b) => b === 0)).toBe(true);
    }
  });

  it("capabilities fall back to the arch's start_info magic", () => {
    const { domU } = setup();
    expect(hypercall(domU, xv, [XenVersionOp.capabilities, DATA_VA])).toBe(0);
    expect(readString(domU, DATA_VA, 1024).text).toBe("xen-3.0-fake");
  });

  it("compile_info fills all four fields at their offsets", () => {
    const { domU } = setup();
    expect(hypercall(domU, xv, [XenVersionOp.compile_info, DATA_VA])).toBe(0);
    expect(readString(domU, DATA_VA, 64).text).toBe("hvkit (TypeScript model)");
    expect(readString(domU, DATA_VA + 64n, 16).text).toBe("hvkit");
    expect(readString(domU, DATA_VA + 80n, 32).text).toBe("hvkit.invalid");
    expect(readString(domU, DATA_VA + 112n, 32).text).toBe("n/a");
  });

  it("platform_parameters gives the arch's virt_start to PV guests only, in the word size", () => {
    const { dom0, hvm } = setup({ virtStart: 0xffff800000000000n });
    expect(hypercall(dom0, xv, [XenVersionOp.platform_parameters, DATA_VA])).toBe(0);
    expect(readGuestU64(dom0.vcpus[0], DATA_VA)).toBe(0xffff800000000000n);
    writeGuestU32(hvm.vcpus[0], DATA_VA, 0x12345678);
    expect(hypercall(hvm, xv, [XenVersionOp.platform_parameters, DATA_VA])).toBe(0);
    expect(readGuestU64(hvm.vcpus[0], DATA_VA)).toBe(0n);
    const small = setup({ wordBits: 32, dataModel: TEST_ILP32, virtStart: 0xf5800000n });
    writeGuestU32(small.dom0.vcpus[0], DATA_VA + 4n, 0xabcdabcd);
    expect(hypercall(small.dom0, xv, [XenVersionOp.platform_parameters, DATA_VA])).toBe(0);
    expect(readGuestU32(small.dom0.vcpus[0], DATA_VA)).toBe(0xf5800000);
    expect(readGuestU32(small.dom0.vcpus[0], DATA_VA + 4n)).toBe(0xabcdabcd); // 4-byte xen_ulong_t
  });

  it("get_features: submap 0 has dom0/direct_mapped/translated bits and the arch's; others -EINVAL", () => {
    const { dom0, domU, hvm } = setup({ features: 1 << XenFeature.mmu_pt_update_preserve_ad });
    const features = (d: Domain) => {
      writeGuestU32(d.vcpus[0], DATA_VA, 0);
      expect(hypercall(d, xv, [XenVersionOp.get_features, DATA_VA])).toBe(0);
      expect(readGuestU32(d.vcpus[0], DATA_VA)).toBe(0); // submap_idx left as it was
      return readGuestU32(d.vcpus[0], DATA_VA + 4n);
    };
    const bit = (f: XenFeature) => 1 << f;
    expect(features(dom0)).toBe(
      bit(XenFeature.dom0) |
        bit(XenFeature.direct_mapped) |
        bit(XenFeature.mmu_pt_update_preserve_ad),
    );
    expect(features(domU)).toBe(
      bit(XenFeature.direct_mapped) | bit(XenFeature.mmu_pt_update_preserve_ad),
    );
    expect(features(hvm)).toBe(
      bit(XenFeature.writable_page_tables) |
        bit(XenFeature.auto_translated_physmap) |
        bit(XenFeature.not_direct_mapped) |
        bit(XenFeature.mmu_pt_update_preserve_ad),
    );
    writeGuestU32(domU.vcpus[0], DATA_VA, 1);
    expect(hypercall(domU, xv, [XenVersionOp.get_features, DATA_VA])).toBe(-Errno.EINVAL);
    expect(hypercall(domU, xv, [XenVersionOp.get_features, 0])).toBe(-Errno.EFAULT);
  });

  it("pagesize needs a NULL argument and reports the machine's page size", () => {
    expect(hypercall(setup().domU, xv, [XenVersionOp.pagesize, 0])).toBe(4096);
    expect(hypercall(setup({ pageSize: 16384 }).domU, xv, [XenVersionOp.pagesize, 0])).toBe(16384);
    expect(hypercall(setup().domU, xv, [XenVersionOp.pagesize, DATA_VA])).toBe(-Errno.EINVAL);
  });

  it("guest_handle copies the domain's 16-byte handle", () => {
    const { domU } = setup();
    domU.handle.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(hypercall(domU, xv, [XenVersionOp.guest_handle, DATA_VA])).toBe(0);
    const out = new Uint8Array(16);
    copyFromGuest(domU.vcpus[0], DATA_VA, out);
    expect([...out]).toEqual([...domU.handle]);
  });

  it("commandline: the hypervisor's for dom0, '<denied>' for others (XSM)", () => {
    const { dom0, domU } = setup({}, { commandLine: "console=com1 dom0_mem=512M" });
    expect(hypercall(dom0, xv, [XenVersionOp.commandline, DATA_VA])).toBe(0);
    expect(readString(dom0, DATA_VA, 1024).text).toBe("console=com1 dom0_mem=512M");
    writeGuestU32(domU.vcpus[0], DATA_VA + 8n, 0x41414141);
    expect(hypercall(domU, xv, [XenVersionOp.commandline, DATA_VA])).toBe(0);
    expect(readString(domU, DATA_VA, 9).text).toBe("<denied>");
    expect(readGuestU32(domU.vcpus[0], DATA_VA + 9n)).toBe(0x00414141); // only 9 bytes were written
  });

  it("build_id: -EPERM unprivileged, -ENODATA for dom0 (no build id)", () => {
    const { dom0, domU } = setup();
    expect(hypercall(domU, xv, [XenVersionOp.build_id, DATA_VA])).toBe(-Errno.EPERM);
    expect(hypercall(dom0, xv, [XenVersionOp.build_id, DATA_VA])).toBe(-Errno.ENODATA);
  });

  it("variable-length forms: length query, -ENOBUFS when short, the bytes without NUL", () => {
    const { dom0, domU } = setup({}, { commandLine: "loglvl=all" });
    expect(hypercall(domU, xv, [XenVersionOp.extraversion2, 0])).toBe(8);
    writeGuestU32(domU.vcpus[0], DATA_VA, 4);
    expect(hypercall(domU, xv, [XenVersionOp.extraversion2, DATA_VA])).toBe(-Errno.ENOBUFS);
    writeGuestU32(domU.vcpus[0], DATA_VA, 64);
    expect(hypercall(domU, xv, [XenVersionOp.capabilities2, DATA_VA])).toBe(12);
    expect(readString(domU, DATA_VA + 4n, 12).text).toBe("xen-3.0-fake");
    expect(hypercall(domU, xv, [XenVersionOp.commandline2, DATA_VA])).toBe(-Errno.EPERM);
    writeGuestU32(dom0.vcpus[0], DATA_VA, 64);
    expect(hypercall(dom0, xv, [XenVersionOp.commandline2, DATA_VA])).toBe(10);
    expect(hypercall(dom0, xv, [XenVersionOp.changeset2, 0xdead000])).toBe(-Errno.EFAULT);
  });

  it("a bad buffer is -EFAULT for every sub-op that writes; unknown sub-ops -ENOSYS", () => {
    const { dom0 } = setup();
    for (const op of [1, 2, 3, 4, 5, 6, 8, 9]) {
      expect(hypercall(dom0, xv, [op, 0x5000000])).toBe(-Errno.EFAULT);
    }
    expect(hypercall(dom0, xv, [15, DATA_VA])).toBe(-Errno.ENOSYS);
    expect(hypercall(dom0, xv, [-1, DATA_VA])).toBe(-Errno.ENOSYS);
  });
});
