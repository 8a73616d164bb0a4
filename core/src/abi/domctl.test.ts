/**
 * domctl/sysctl layouts, pinned by hand from xen/include/public/domctl.h and sysctl.h of
 * Xen 4.19 (RELEASE-4.19.0). They are not in the golden gcc table (core/scripts): the
 * values below were checked once with gcc -m64 and -m32 against those headers. The
 * `uint64_aligned_t` / `XEN_GUEST_HANDLE_64` fields make the x86_32 layout equal to
 * x86_64's, which is what lets a 32-bit toolstack talk to a 64-bit hypervisor.
 */
import { describe, expect, it } from "vitest";
import {
  XEN_DOMCTL,
  XEN_DOMCTL_ADDRESS_SIZE,
  XEN_DOMCTL_CREATEDOMAIN,
  XEN_DOMCTL_GETDOMAININFO,
  XEN_DOMCTL_GETMEMLIST,
  XEN_DOMCTL_GETVCPUINFO,
  XEN_DOMCTL_INTERFACE_VERSION,
  XEN_DOMCTL_MAX_MEM,
  XEN_DOMCTL_SETDEBUGGING,
  XEN_DOMCTL_SHADOW_OP,
  XEN_DOMCTL_VCPUCONTEXT,
} from "./domctl.js";
import {
  XEN_SYSCTL,
  XEN_SYSCTL_GETDOMAININFOLIST,
  XEN_SYSCTL_INTERFACE_VERSION,
  XEN_SYSCTL_PHYSINFO,
} from "./sysctl.js";
import type { StructDef } from "../structs.js";
import { TEST_ILP32, TEST_LP64_LE } from "../testing/data-models.js";

const expected: [StructDef, number, number, Record<string, number>][] = [
  [XEN_DOMCTL, 144, 8, { cmd: 0, interface_version: 4, domain: 8, u: 16 }],
  [
    XEN_DOMCTL_CREATEDOMAIN,
    68,
    4,
    { handle: 4, flags: 20, max_vcpus: 28, grant_opts: 44, cpupool_id: 56, arch: 60 },
  ],
  [
    XEN_DOMCTL_GETDOMAININFO,
    112,
    8,
    {
      flags: 4,
      tot_pages: 8,
      shared_info_frame: 48,
      cpu_time: 56,
      nr_online_vcpus: 64,
      max_vcpu_id: 68,
      ssidref: 72,
      handle: 76,
      cpupool: 92,
      gpaddr_bits: 96,
      arch_config: 104,
    },
  ],
  [XEN_DOMCTL_SHADOW_OP, 40, 8, { mb: 8, dirty_bitmap: 16, pages: 24, stats: 32 }],
  [XEN_DOMCTL_VCPUCONTEXT, 16, 8, { vcpu: 0, ctxt: 8 }],
  [XEN_DOMCTL_GETVCPUINFO, 24, 8, { online: 4, running: 6, cpu_time: 8, cpu: 16 }],
  [XEN_DOMCTL_MAX_MEM, 8, 8, { max_memkb: 0 }],
  [XEN_DOMCTL_ADDRESS_SIZE, 4, 4, { size: 0 }],
  [XEN_DOMCTL_SETDEBUGGING, 1, 1, { enable: 0 }],
  [XEN_DOMCTL_GETMEMLIST, 32, 8, { max_pfns: 0, buffer: 16, num_pfns: 24 }],
  [XEN_SYSCTL, 136, 8, { cmd: 0, interface_version: 4, u: 8 }],
  [
    XEN_SYSCTL_PHYSINFO,
    112,
    8,
    {
      nr_cpus: 8,
      cpu_khz: 24,
      capabilities: 28,
      total_pages: 40,
      free_pages: 48,
      max_mfn: 72,
      hw_cap: 80,
    },
  ],
  [XEN_SYSCTL_GETDOMAININFOLIST, 24, 8, { max_domains: 4, buffer: 8, num_domains: 16 }],
];

describe("domctl / sysctl layouts (Xen 4.19 headers)", () => {
  it.each(expected.map((e) => [e[0].name, ...e] as const))(
    "%s",
    (_n, def, size, align, offsets) => {
      for (const model of [TEST_LP64_LE, TEST_ILP32]) {
        const l = def.layout(model);
        const name = model.name;
        expect({ name, size: l.size, align: l.align }).toEqual({ name, size, align });
        for (const [path, off] of Object.entries(offsets)) expect(l.offsetOf(path)).toBe(off);
      }
    },
  );

  it("the payload unions are 128 bytes and hold every payload", () => {
    expect(XEN_DOMCTL.layout(TEST_LP64_LE).sizeOf("u")).toBe(128);
    expect(XEN_SYSCTL.layout(TEST_LP64_LE).sizeOf("u")).toBe(128);
  });

  it("interface versions of Xen 4.19", () => {
    expect(XEN_DOMCTL_INTERFACE_VERSION).toBe(0x17);
    expect(XEN_SYSCTL_INTERFACE_VERSION).toBe(0x15);
  });
});
