/**
 * The contract between hvkit and a guest-OS port (Linux, NetBSD, FreeBSD, Darwin, ...).
 *
 * An adapter is what an OS port does at the Xen interface. It runs as a real guest: a
 * boot image whose machine code enters, registers callbacks and idles; the OS logic is
 * TypeScript reached from guest code through the arch's kernel-service trap, keeping its
 * state in guest memory and making hypercalls through the arch's real hypercall path, so
 * the hypervisor cannot tell it from a compiled kernel.
 *
 * Each adapter declares its real support matrix (arches × modes × roles) and image
 * format; the conformance runner runs every supported cell and checks that unsupported
 * cells are declined with a reason (XTF's UNSUPPORTED), never attempted. In a supported
 * cell it builds the adapter's image, boots it in the cell's role and judges the boot by
 * the adapter's {@link GuestAdapter.milestones}.
 *
 * A port touches only its own package: it exports its adapter and says so in its
 * package.json, `"hvkit": { "plugin": "guest", "provides": ["<export name>"] }`, which is how
 * the `hvkit` command finds it (`--plugin <folder>` loads one kept elsewhere). `hvkit
 * new-guest` writes such a package, every hook a loud stub
 * ({@link createStubGuestAdapter}).
 *
 * @module
 */
import type { GuestMode } from "./arch-plugin.js";

/** The part a guest plays: the initial, privileged domain or an ordinary one. */
export type GuestRole = "dom0" | "domU";

/** Boot image formats a loader understands. */
export type ImageFormat = "elf" | "mach-o";

/** One cell of the conformance matrix, from the adapter's side. */
export interface GuestCell {
  /** Arch name (as registered, e.g. `x86_64`). */
  readonly arch: string;
  /** Guest mode. */
  readonly mode: GuestMode;
  /** Role. */
  readonly role: GuestRole;
}

/** What a guest-OS port provides. */
export interface GuestAdapter {
  /** The OS's name as the CLI and the matrix spell it (`linux`, `netbsd`, ...). */
  readonly name: string;
  /** Arch names the port exists for (the real port's list, not what would be nice). */
  readonly arches: readonly string[];
  /** Roles the port can play; only dom0-capable ports list `dom0`. */
  readonly roles: readonly GuestRole[];
  /** Guest modes the port runs in: `pv`, and the hardware-assisted modes for unmodified builds. */
  readonly modes: readonly GuestMode[];
  /** Format of the boot image {@link GuestAdapter.buildImage} produces. */
  readonly imageFormat: ImageFormat;

  /**
   * Why `cell` is not supported, or null when it is. Called by the runner before
   * building anything; must answer from the declarations alone (no machine exists yet).
   * A cell outside `arches` × `modes` × `roles` must be declined; a declared cell may
   * still be declined with a reason (a feature the arch lacks).
   */
  declines(cell: GuestCell): string | null;

  /**
   * True for a port whose cells run only when its guest set is asked for by name
   * (`hvkit conformance --guest <name>`), not in the default matrix: one that obtains a
   * real OS image at run time (a distribution's kernel fetched by package name) and boots
   * it for billions of instructions. Default false.
   */
  readonly onDemand?: boolean;

  /**
   * Produces the boot image for a supported `cell`: real machine code for the arch,
   * with the notes its loader needs (Xen ELF notes, or Mach-O load commands). Must be
   * deterministic: the same cell (and, for an obtained image, the same obtained files)
   * gives the same bytes. Either the kernel's bytes, or a {@link GuestImage} when the
   * boot needs more (an initial ramdisk, more memory, a longer budget); a promise of
   * either when the image is obtained rather than built. Throws (or rejects with)
   * {@link GuestImageUnavailableError} when what it needs cannot be had on this host (the
   * cell is a SKIP saying why); anything else it throws is an hvkit bug.
   */
  buildImage(cell: GuestCell): GuestImageResult | Promise<GuestImageResult>;

  /** The kernel command line the adapter boots `cell` with (default: empty). */
  commandLine?(cell: GuestCell): string;

  /**
   * Optional. The milestones a boot of `cell` must pass, in order: what the OS's console
   * shows as it gets there (the kernel's banner, its xenbus connecting, a login prompt),
   * as Linux's boot is judged by what it prints. The conformance runner boots the image
   * in the cell's role until the domain shuts down or the instruction budget ends, then
   * looks for each milestone's pattern in the console output after the previous one's
   * match; the boot passes when all are found and the domain did not crash. Must answer
   * from the declarations (no machine exists yet) and name at least one milestone.
   * Fallback: the boot passes when the domain powers off (SHUTDOWN_poweroff) without
   * crashing.
   */
  milestones?(cell: GuestCell): readonly BootMilestone[];
}

/** What {@link GuestAdapter.buildImage} gives: the kernel alone, or a {@link GuestImage}. */
export type GuestImageResult = Uint8Array | GuestImage;

/**
 * A boot image with what goes with it, for a port whose boot needs more than a kernel
 * (a distribution's Linux kernel and the initramfs it runs /init from).
 */
export interface GuestImage {
  /** The kernel: an ELF file's bytes (a bzImage is unwrapped first, `loadKernelImage`). */
  readonly kernel: Uint8Array;
  /** The initial ramdisk (start_info mod_start/mod_len), or absent. */
  readonly ramdisk?: Uint8Array;
  /** The guest's memory, MiB (a domU's `memory`; dom0's machine), or absent: the default. */
  readonly memoryMiB?: number;
  /** The instruction budget the boot needs, or absent: the runner's default. */
  readonly maxInstructions?: number;
}

/**
 * Thrown by {@link GuestAdapter.buildImage} when what the image is made from cannot be
 * had on this host (no package manager, no network, a package missing): the cell is a
 * SKIP with the reason, not a failure of hvkit.
 */
export class GuestImageUnavailableError extends Error {
  /**
   * @param adapter - the adapter whose image cannot be had.
   * @param reason - why, for the SKIP message (what is missing and how to provide it).
   */
  constructor(
    readonly adapter: string,
    readonly reason: string,
  ) {
    super(`guest adapter ${adapter}: image not available: ${reason}`);
    this.name = "GuestImageUnavailableError";
  }
}

/** A point a guest's boot must reach, as its console shows it. */
export interface BootMilestone {
  /** What is reached, for messages (`kernel banner`, `xenbus connected`). */
  readonly name: string;
  /**
   * What the console shows there. Searched in the console output after the previous
   * milestone's match (the whole output for the first), so milestones are met in order.
   */
  readonly console: RegExp;
}

/**
 * Thrown (only) by a stub member of an unfinished guest adapter, so a missing piece fails
 * loudly and names itself; the conformance matrix shows which cells it blocks.
 */
export class GuestAdapterHookMissingError extends Error {
  /**
   * @param adapter - the adapter whose hook is missing.
   * @param hook - the name of the missing member.
   */
  constructor(
    readonly adapter: string,
    readonly hook: string,
  ) {
    super(`guest adapter ${adapter}: hook ${hook} is not implemented yet`);
    this.name = "GuestAdapterHookMissingError";
  }
}
