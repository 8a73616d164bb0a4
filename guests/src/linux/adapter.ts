/**
 * The Linux guest adapter: Debian 12's stock kernel (`linux-image-amd64`, itself a Xen PV
 * kernel: CONFIG_XEN_PV, XEN_PV_DOM0, HVC_XEN) booted with a busybox initramfs built in
 * code, as dom0 or as a PV domU on x86_64. Its image is obtained, not built: the kernel and
 * `busybox-static` packages are fetched by name through the host's apt into hvkit's cache
 * ({@link DebianPackageCache}); without apt, or without the packages, its cells are a SKIP
 * saying so. A boot is judged by its console milestones ({@link LINUX_MILESTONES}).
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  declinedByDeclarations,
  GuestImageUnavailableError,
  loadKernelImage,
  type BootMilestone,
  type GuestAdapter,
  type GuestAdapterIdentity,
  type GuestImage,
} from "@hvkit/core";
import { DebianPackageCache, PackageUnavailableError } from "./debian-packages.js";
import { buildInitramfs, INIT_MARKER } from "./initramfs.js";

/** The Debian packages the image is made from, by name. */
export const LINUX_PACKAGES = {
  /** The metapackage that depends on the current stock kernel's package. */
  kernel: "linux-image-amd64",
  /** A statically linked busybox, the initramfs's only program. */
  busybox: "busybox-static",
} as const;

/** What the Linux port is: x86_64 (Debian's amd64 kernel), PV, dom0 or domU, ELF. */
export const LINUX_IDENTITY: GuestAdapterIdentity = {
  name: "linux",
  arches: ["x86_64"],
  roles: ["dom0", "domU"],
  modes: ["pv"],
  imageFormat: "elf",
  onDemand: true,
};

/** The guest's memory, MiB: room for the kernel, its initramfs unpacked, and busybox. */
export const LINUX_MEMORY_MIB = 256;

/** The instruction budget of one boot to power-off. */
export const LINUX_MAX_INSTRUCTIONS = 6_000_000_000;

/**
 * The kernel command line: the console on hvc0 (Xen's PV console; for dom0 it writes
 * through console_io), and `panic=-1` so that a kernel that panics reboots at once (the
 * boot then ends short of its milestones) instead of spinning out the budget.
 */
export const LINUX_COMMAND_LINE = "console=hvc0 panic=-1";

/** The milestone of /init's own line ({@link INIT_MARKER}): the boot reached user space. */
export const INIT_PRINTS: BootMilestone = {
  name: "/init prints",
  console: new RegExp(INIT_MARKER.replace(/[/]/g, "\\/")),
};

/**
 * What a good boot shows, in order: the kernel's banner (replayed when hvc0 registers), the
 * console on hvc0, the kernel starting /init from the initramfs, /init's own line
 * ({@link INIT_MARKER}) and the kernel powering off at /init's request. A Xen PV kernel
 * registers no power-off handler, so `poweroff -f` reaches the kernel as a halt
 * (kernel/reboot.c turns LINUX_REBOOT_CMD_POWER_OFF into HALT when it cannot power off),
 * prints "reboot: System halted" and xen_machine_halt shuts the domain down with reason
 * poweroff; "reboot: Power down" is what a kernel with a handler prints.
 */
export const LINUX_MILESTONES: readonly BootMilestone[] = [
  { name: "kernel banner", console: /Linux version \d+\.\d+/ },
  { name: "console on hvc0", console: /console \[hvc0\] enabled/ },
  { name: "kernel runs /init", console: /Run \/init as init process/ },
  INIT_PRINTS,
  { name: "power off", console: /reboot: (?:Power down|System halted)/ },
];

/** The one file in `dir` whose name matches `pattern`, or null. */
function onlyFile(dir: string, pattern: RegExp): string | null {
  if (!existsSync(dir)) return null;
  const found = readdirSync(dir).filter((f) => pattern.test(f));
  return found.length === 1 ? join(dir, found[0]) : null;
}

/** The files a Linux boot is made from, as unpacked in hvkit's cache. */
export interface LinuxPackageFiles {
  /** The kernel package's bzImage (`boot/vmlinuz-*`). */
  readonly vmlinuz: string;
  /** busybox-static's `bin/busybox`. */
  readonly busybox: string;
}

/**
 * The kernel's bzImage and busybox, from the packages in `cache` (fetched and unpacked on
 * first use). Throws {@link PackageUnavailableError} when a package cannot be had.
 */
export async function obtainLinuxPackageFiles(
  cache: DebianPackageCache,
): Promise<LinuxPackageFiles> {
  const meta = await cache.record(LINUX_PACKAGES.kernel);
  const kernelPackage = meta.depends.find((d) => d.startsWith("linux-image-"));
  if (kernelPackage === undefined)
    throw new PackageUnavailableError(meta.name, "depends on no linux-image-* package");
  const kernelDir = await cache.unpack(kernelPackage);
  const vmlinuz = onlyFile(join(kernelDir, "boot"), /^vmlinuz-/);
  if (vmlinuz === null)
    throw new PackageUnavailableError(kernelPackage, "holds no boot/vmlinuz-* kernel");
  const busyboxDir = await cache.unpack(LINUX_PACKAGES.busybox);
  const busybox = join(busyboxDir, "bin", "busybox");
  if (!existsSync(busybox))
    throw new PackageUnavailableError(LINUX_PACKAGES.busybox, "holds no bin/busybox");
  return { vmlinuz, busybox };
}

/**
 * The kernel (its bzImage unwrapped to the ELF) and the initramfs, from the packages in
 * `cache`. Throws {@link PackageUnavailableError} when a package cannot be had.
 */
export async function obtainLinuxImage(cache: DebianPackageCache): Promise<GuestImage> {
  const { vmlinuz, busybox } = await obtainLinuxPackageFiles(cache);
  const kernel = (await loadKernelImage(readFileSync(vmlinuz))).elf;
  return {
    kernel,
    ramdisk: buildInitramfs(readFileSync(busybox)),
    memoryMiB: LINUX_MEMORY_MIB,
    maxInstructions: LINUX_MAX_INSTRUCTIONS,
  };
}

/**
 * A Linux adapter whose packages come from `cache` (hvkit's cache folder by default). The
 * image is obtained once per adapter and shared by its cells.
 */
export function createLinuxAdapter(cache?: DebianPackageCache): GuestAdapter {
  let image: Promise<GuestImage> | undefined;
  return {
    ...LINUX_IDENTITY,
    declines: (cell) => declinedByDeclarations(LINUX_IDENTITY, cell),
    buildImage: () => {
      image ??= obtainLinuxImage(cache ?? new DebianPackageCache()).catch((e: unknown) => {
        image = undefined;
        if (e instanceof PackageUnavailableError)
          throw new GuestImageUnavailableError(LINUX_IDENTITY.name, e.message);
        throw e;
      });
      return image;
    },
    commandLine: () => LINUX_COMMAND_LINE,
    milestones: () => LINUX_MILESTONES,
  };
}

/** The Linux guest adapter, with hvkit's cache folder. */
export const linuxAdapter: GuestAdapter = createLinuxAdapter();
