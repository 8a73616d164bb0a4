/**
 * The Linux adapter's declarations, its milestones judged against console transcripts of
 * boots that get so far and no further, and its image: a SKIP when apt cannot give the
 * packages, and the initramfs /init needs. (The boot of the real kernel is
 * conformance/src/linux-boot.test.ts.)
 */
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { GuestImageUnavailableError } from "@hvkit/core";
import { DebianPackageCache } from "./debian-packages.js";
import { createLinuxAdapter, LINUX_MILESTONES } from "./adapter.js";
import { buildInitramfs, INIT_APPLETS, INIT_MARKER, INIT_SCRIPT } from "./initramfs.js";

/** The milestones reached in order in `console` (what conformance's judgeBoot walks). */
function reached(console: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (const m of LINUX_MILESTONES) {
    const found = m.console.exec(console.slice(from));
    if (found === null) break;
    out.push(m.name);
    from += found.index + found[0].length;
  }
  return out;
}

const BANNER =
  "[    0.000000] Linux version 6.1.0-50-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.176-1\n";
const HVC = "[    0.120000] printk: console [hvc0] enabled\n";
const RUN_INIT = "[    1.500000] Run /init as init process\n";
const INIT = `${INIT_MARKER} (Linux 6.1.0-50-amd64)\n`;
const OFF = "[    1.600000] reboot: System halted\n";

describe("the Linux adapter", () => {
  const linux = createLinuxAdapter();

  it("declares x86_64 PV, dom0 and domU, and declines the rest saying why", () => {
    expect(linux.declines({ arch: "x86_64", mode: "pv", role: "dom0" })).toBeNull();
    expect(linux.declines({ arch: "x86_64", mode: "pv", role: "domU" })).toBeNull();
    expect(linux.declines({ arch: "x86", mode: "pv", role: "domU" })).toBe(
      "linux is not ported to x86 (it runs on x86_64)",
    );
    expect(linux.declines({ arch: "x86_64", mode: "hvm-vmx", role: "domU" })).toBe(
      "linux does not run in mode hvm-vmx (it runs in pv)",
    );
    expect(linux.onDemand).toBe(true);
    expect(linux.commandLine?.({ arch: "x86_64", mode: "pv", role: "domU" })).toMatch(
      /console=hvc0/,
    );
  });

  it("judges a boot by how far its console got, the power-off last", () => {
    expect(reached(BANNER + HVC + RUN_INIT + INIT + OFF)).toEqual(
      LINUX_MILESTONES.map((m) => m.name),
    );
    // Stopped at the FPU check, as issue 13 found it: banner and console, no /init.
    expect(reached(BANNER + HVC + "[    0.3] x86/fpu: ...\n")).toEqual([
      "kernel banner",
      "console on hvc0",
    ]);
    // A panic before /init runs (panic=-1: the domain reboots).
    expect(
      reached(BANNER + HVC + "Kernel panic - not syncing: VFS: Unable to mount root fs\n"),
    ).toHaveLength(2);
    // /init's line without the kernel having said it runs /init is out of order.
    expect(reached(BANNER + HVC + INIT + RUN_INIT + OFF)).toEqual([
      "kernel banner",
      "console on hvc0",
      "kernel runs /init",
    ]);
    // The /init script's text is not its output: a kernel echoing the script would not pass.
    expect(reached(BANNER + HVC + RUN_INIT + INIT_SCRIPT + OFF)).toHaveLength(3);
  });

  it("is a SKIP (GuestImageUnavailableError) when apt is not there, and asks again later", async () => {
    let asked = 0;
    const cache = new DebianPackageCache("/nonexistent-hvkit-cache", async () => {
      asked++;
      throw Object.assign(new Error("spawn apt-cache ENOENT"), { code: "ENOENT" });
    });
    const noApt = createLinuxAdapter(cache);
    const cell = { arch: "x86_64", mode: "pv", role: "domU" } as const;
    const e = await Promise.resolve(noApt.buildImage(cell)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GuestImageUnavailableError);
    expect((e as GuestImageUnavailableError).reason).toBe(
      "Debian package linux-image-amd64: apt-cache is not installed (needs Debian's apt and dpkg)",
    );
    await Promise.resolve(noApt.buildImage(cell)).catch(() => undefined);
    expect(asked).toBe(2);
  });
});

describe("the initramfs", () => {
  it("is gzip over newc holding busybox, its applets as links, /dev/console and /init", () => {
    const busybox = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 9, 9, 9]);
    const image = buildInitramfs(busybox);
    expect([image[0], image[1]]).toEqual([0x1f, 0x8b]);
    const text = Buffer.from(gunzipSync(image)).toString("latin1");
    for (const a of INIT_APPLETS) expect(text).toContain(`bin/${a}\0`);
    expect(text).toContain("bin/busybox\0");
    expect(text).toContain("dev/console\0");
    expect(text).toMatch(/init\0+#!\/bin\/sh\n/);
    expect(text).toContain("poweroff -f\n");
    expect(text.endsWith("TRAILER!!!\0\0\0\0")).toBe(true);
    expect(buildInitramfs(busybox)).toEqual(image);
  });
});
