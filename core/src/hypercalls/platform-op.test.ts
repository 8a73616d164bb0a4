import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { Hypercall, PlatformOp, XENPF_INTERFACE_VERSION } from "../abi/numbers.js";
import type { Domain } from "../domain.js";
import { Errno } from "../errno.js";
import { readGuestU32, readGuestU8, writeGuestU32, writeGuestU64 } from "../guest-memory.js";
import { SHARED_INFO } from "../abi/xen.js";
import { TEST_LP64_BE, TEST_LP64_LE } from "../testing/data-models.js";
import { mapFakePages } from "../testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { FirmwareInfoType, XEN_PCPU_FLAGS_INVALID, XEN_PCPU_FLAGS_ONLINE } from "./platform-op.js";

/** Writes a xen_platform_op header at DATA_VA and makes the call. */
function call(
  d: Domain,
  cmd: number,
  fill: (v: Domain["vcpus"][0]) => void = () => {},
  version = XENPF_INTERFACE_VERSION,
) {
  const v = d.vcpus[0];
  for (let i = 0; i < 136; i += 4) writeGuestU32(v, DATA_VA + BigInt(i), 0xa5a5a5a5);
  writeGuestU32(v, DATA_VA, cmd);
  writeGuestU32(v, DATA_VA + 4n, version);
  fill(v);
  return Number(hypercall(d, Hypercall.platform_op, [DATA_VA]));
}

function setup(endianness: "little" | "big" = "little") {
  const { machine } = fakeMachine(
    { modes: ["pv"], endianness },
    { memoryMiB: 2, bootWallclock: 1000 },
  );
  const dom0 = addFakeDomain(machine, { privileged: true });
  const domU = addFakeDomain(machine);
  return { machine, dom0, domU };
}

const fw = (type: number, index: number) => (v: Domain["vcpus"][0]) => {
  writeGuestU32(v, DATA_VA + 8n, type);
  writeGuestU32(v, DATA_VA + 12n, index);
};

describe("platform_op", () => {
  it("checks the argument, then the interface version, then XSM_PRIV", () => {
    const { dom0, domU } = setup();
    expect(Number(hypercall(dom0, Hypercall.platform_op, [0x10n]))).toBe(-Errno.EFAULT);
    expect(call(dom0, PlatformOp.get_cpuinfo, () => {}, 0x03000000)).toBe(-Errno.EACCES);
    expect(call(domU, PlatformOp.get_cpuinfo, () => {}, 0x03000000)).toBe(-Errno.EACCES);
    expect(call(domU, PlatformOp.get_cpuinfo)).toBe(-Errno.EPERM);
    expect(call(dom0, 35 /* microcode_update */)).toBe(-Errno.ENOSYS);
  });

  it("firmware_info: no EDD, EDID or EFI; keyboard shift flags 0 for index 0", () => {
    const { dom0 } = setup();
    const v = dom0.vcpus[0];
    expect(call(dom0, PlatformOp.firmware_info, fw(FirmwareInfoType.DISK_INFO, 0))).toBe(
      -Errno.ESRCH,
    );
    expect(call(dom0, PlatformOp.firmware_info, fw(FirmwareInfoType.DISK_MBR_SIGNATURE, 0))).toBe(
      -Errno.ESRCH,
    );
    expect(call(dom0, PlatformOp.firmware_info, fw(FirmwareInfoType.VBEDDC_INFO, 0))).toBe(
      -Errno.ESRCH,
    );
    expect(call(dom0, PlatformOp.firmware_info, fw(FirmwareInfoType.EFI_INFO, 0))).toBe(
      -Errno.ENOSYS,
    );
    expect(call(dom0, PlatformOp.firmware_info, fw(FirmwareInfoType.KBD_SHIFT_FLAGS, 1))).toBe(
      -Errno.ESRCH,
    );
    expect(call(dom0, PlatformOp.firmware_info, fw(FirmwareInfoType.KBD_SHIFT_FLAGS, 0))).toBe(0);
    expect(readGuestU8(v, DATA_VA + 16n)).toBe(0);
    expect(readGuestU8(v, DATA_VA + 17n)).toBe(0xa5);
    expect(call(dom0, PlatformOp.firmware_info, fw(9, 0))).toBe(-Errno.EINVAL);
  });

  it("get_cpuinfo: pCPU 0 online with APIC id 0 and no ACPI id; others invalid", () => {
    const { dom0 } = setup();
    const v = dom0.vcpus[0];
    expect(call(dom0, PlatformOp.get_cpuinfo, (w) => writeGuestU32(w, DATA_VA + 8n, 0))).toBe(0);
    expect(readGuestU32(v, DATA_VA + 12n)).toBe(0);
    expect(readGuestU32(v, DATA_VA + 16n)).toBe(XEN_PCPU_FLAGS_ONLINE);
    expect(readGuestU32(v, DATA_VA + 20n)).toBe(0);
    expect(readGuestU32(v, DATA_VA + 24n)).toBe(0xffffffff);
    expect(readGuestU32(v, DATA_VA + 28n)).toBe(0xa5a5a5a5);
    expect(call(dom0, PlatformOp.get_cpuinfo, (w) => writeGuestU32(w, DATA_VA + 8n, 1))).toBe(0);
    expect(readGuestU32(v, DATA_VA + 16n)).toBe(XEN_PCPU_FLAGS_INVALID);
    expect(readGuestU32(v, DATA_VA + 12n)).toBe(0);
  });

  it("settime64 sets every domain's wall clock at system time 0; mbz must be zero", () => {
    const { machine, dom0, domU } = setup();
    domU.sharedInfoMfn = mapFakePages(machine, domU, 0x40000n, 1)[0];
    const s = SHARED_INFO.layout(TEST_LP64_LE);
    const at = domU.sharedInfoMfn * 4096;
    const set = (mbz: number) => (v: Domain["vcpus"][0]) => {
      writeGuestU64(v, DATA_VA + 8n, 1_700_000_000n);
      writeGuestU32(v, DATA_VA + 16n, 250_000_000);
      writeGuestU32(v, DATA_VA + 20n, mbz);
      writeGuestU64(v, DATA_VA + 24n, 3_500_000_000n);
    };
    expect(call(dom0, PlatformOp.settime64, set(1))).toBe(-Errno.EINVAL);
    expect(s.getNumber(machine.memory.view, at, "wc_sec")).toBe(0);
    expect(call(dom0, PlatformOp.settime64, set(0))).toBe(0);
    // 1_700_000_000.25 s at system time 3.5 s: 1_699_999_996.75 s at system time 0.
    expect(s.getNumber(machine.memory.view, at, "wc_sec")).toBe(1_699_999_996);
    expect(s.getNumber(machine.memory.view, at, "wc_nsec")).toBe(750_000_000);
    expect(s.getNumber(machine.memory.view, at, "wc_version") % 2).toBe(0);
  });

  for (const [endianness, model] of [
    ["little", TEST_LP64_LE],
    ["big", TEST_LP64_BE],
  ] as const) {
    it(`settime32 takes 32-bit seconds, in the guest's byte order (${endianness}-endian)`, () => {
      const { machine, dom0 } = setup(endianness);
      dom0.sharedInfoMfn = mapFakePages(machine, dom0, 0x40000n, 1)[0];
      const at = dom0.sharedInfoMfn * 4096;
      expect(
        call(dom0, PlatformOp.settime32, (v) => {
          writeGuestU32(v, DATA_VA + 8n, 5000);
          writeGuestU32(v, DATA_VA + 12n, 0);
          writeGuestU64(v, DATA_VA + 16n, 1_000_000_000n);
        }),
      ).toBe(0);
      expect(SHARED_INFO.layout(model).getNumber(machine.memory.view, at, "wc_sec")).toBe(4999);
    });
  }
});
