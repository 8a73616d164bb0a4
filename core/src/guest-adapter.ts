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
 * cells are declined with a reason (XTF's UNSUPPORTED), never attempted.
 *
 * Implementations arrive in later issues; this file fixes the contract.
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
   * Produces the boot image for a supported `cell`: real machine code for the arch,
   * with the notes its loader needs (Xen ELF notes, or Mach-O load commands). Must be
   * deterministic: the same cell gives the same bytes. Throws only for an hvkit bug.
   */
  buildImage(cell: GuestCell): Uint8Array;

  /** The kernel command line the adapter boots `cell` with (default: empty). */
  commandLine?(cell: GuestCell): string;
}
