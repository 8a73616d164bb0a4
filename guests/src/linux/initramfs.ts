/**
 * The initramfs hvkit boots Linux with: busybox, a link for each applet /init uses, the
 * mount points, /dev/console, and an /init script that prints {@link INIT_MARKER} over the
 * console and powers the domain off. Written as a cpio newc archive and compressed with
 * gzip, which every Linux kernel with initramfs support unpacks.
 *
 * @module
 */
import { gzipSync } from "node:zlib";
import { writeCpioNewc, type CpioEntry } from "./cpio.js";

/** What /init prints once it runs: the last milestone before the power-off. */
export const INIT_MARKER = "hvkit-init: /init is running";

/** The busybox applets /init uses, linked to `bin/busybox`. */
export const INIT_APPLETS = ["sh", "mount", "echo", "uname", "cat", "poweroff"] as const;

/**
 * The /init script: mounts /proc and /sys, prints {@link INIT_MARKER} with the kernel's
 * release (the marker's words given to echo one by one, so that the script's own text does
 * not hold the marker), then powers off at once (`poweroff -f`: the reboot system call, which a Xen PV
 * kernel turns into SCHEDOP_shutdown with SHUTDOWN_poweroff).
 */
export const INIT_SCRIPT = `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo ${INIT_MARKER.split(" ")
  .map((w) => JSON.stringify(w))
  .join(" ")} "(Linux $(uname -r))"
poweroff -f
`;

/**
 * The entries of the initramfs around `busybox` (a statically linked busybox binary, as
 * Debian's busybox-static ships it): deterministic, in the order the kernel must create
 * them (each directory before what it holds).
 */
export function initramfsEntries(busybox: Uint8Array): CpioEntry[] {
  const dirs = ["bin", "dev", "proc", "sys", "tmp"];
  return [
    ...dirs.map((path): CpioEntry => ({ kind: "directory", path, mode: 0o755 })),
    { kind: "char-device", path: "dev/console", mode: 0o600, major: 5, minor: 1 },
    { kind: "file", path: "bin/busybox", mode: 0o755, data: busybox },
    ...INIT_APPLETS.map((a): CpioEntry => ({
      kind: "symlink",
      path: `bin/${a}`,
      target: "busybox",
    })),
    { kind: "file", path: "init", mode: 0o755, data: new TextEncoder().encode(INIT_SCRIPT) },
  ];
}

/** The gzip-compressed newc archive of {@link initramfsEntries}. */
export function buildInitramfs(busybox: Uint8Array): Uint8Array {
  return gzipSync(writeCpioNewc(initramfsEntries(busybox)), { level: 9 });
}
