/**
 * Booting the initial domain, as Xen boots the kernel it is handed: domain 0,
 * privileged, built by the arch's domain builder, its first vCPU made runnable.
 *
 * @module
 */
import type { GuestMode } from "./arch-plugin.js";
import type { Domain } from "./domain.js";
import { parseElf, type ElfImage } from "./elf.js";
import type { Machine } from "./machine.js";
import { VcpuState } from "./vcpu.js";

/** How to boot the initial domain. */
export interface BootOptions {
  /** Kernel command line (default empty). */
  readonly cmdline?: string;
  /** Guest mode (default: the arch's first). */
  readonly mode?: GuestMode;
  /** Number of vCPUs (default 1; only vCPU 0 starts). */
  readonly vcpus?: number;
  /**
   * Maximum pages of the domain (default: every free frame, as Xen gives dom0 the memory
   * it does not keep for itself). The builder decides how many it allocates.
   */
  readonly maxPages?: number;
}

/**
 * Parses `image` (unless it already is an {@link ElfImage}), creates domain 0 (privileged),
 * lets the arch build it (`ArchPlugin.buildDomain` with `initial: true`) and makes vCPU 0
 * runnable. Image problems surface as the loader's or builder's `ImageError`; the
 * half-built domain is destroyed first, so the machine is left as it was.
 */
export function bootInitialDomain(
  machine: Machine,
  image: Uint8Array | ElfImage,
  options: BootOptions = {},
): Domain {
  const mode = options.mode ?? machine.arch.modes[0];
  const arch = machine.arch;
  const parsed =
    image instanceof Uint8Array
      ? parseElf(image, {
          elfMachines: arch.elfMachines,
          elfClasses: arch.elfClasses,
          endianness: arch.endianness,
          pageSize: machine.memory.pageSize,
        })
      : image;
  const domain = machine.createDomain({ privileged: true, mode, vcpus: options.vcpus ?? 1, id: 0 });
  try {
    domain.maxPages = options.maxPages ?? machine.freeFrameCount();
    machine.arch.buildDomain({
      machine,
      domain,
      image: parsed,
      cmdline: options.cmdline ?? "",
      mode,
      initial: true,
    });
  } catch (err) {
    machine.destroyDomain(domain);
    throw err;
  }
  domain.vcpus[0].state = VcpuState.Runnable;
  return domain;
}
