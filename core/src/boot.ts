/**
 * Booting domains from kernel images. The initial domain is booted as Xen boots the kernel
 * it is handed: domain 0, privileged, built by the arch's domain builder, its first vCPU
 * made runnable. A domU is booted as the toolstack (xl/libxl) does it: an unprivileged
 * domain with the next free id, its store and console event channels allocated unbound
 * for their back-end domains before the build (libxl `libxl__build_pre`), then the
 * arch's builder with `initial: false`, which sets aside the two ring pages and puts
 * frames and ports into start_info.
 *
 * @module
 */
import type { ArchTypes, DomainBuildResult, GuestMode } from "./arch-plugin.js";
import type { Domain } from "./domain.js";
import { parseElf, type ElfImage } from "./elf.js";
import { XC_DOM_DECOMPRESS_MAX } from "./bzimage.js";
import { ImageError, ImageErrorCode } from "./errors.js";
import { gunzipSync } from "node:zlib";
import { evtchnAllocUnbound, MAX_EVTCHN_PORT_UNLIMITED } from "./event-channel.js";
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
  /**
   * The initial ramdisk's file (default none). A domU's is loaded as libxc loads it
   * ({@link libxcRamdisk}); the initial domain's as it is.
   */
  readonly ramdisk?: Uint8Array;
}

/** How to boot a domU ({@link bootDomU}). */
export interface DomUBootOptions extends BootOptions {
  /**
   * Pages of the domain (default: libxl's default `max_memkb` of 32 MiB, or the free
   * frames less a sixteenth when fewer are free). The domU builder allocates all of them.
   */
  readonly maxPages?: number;
  /** The domain serving xenstore, allowed to bind the store port (default 0: dom0). */
  readonly storeDomid?: number;
  /** The domain running the console back end, allowed to bind the console port (default 0). */
  readonly consoleDomid?: number;
  /**
   * The highest event-channel port the domain may allocate: the `max_evtchn_port` libxl
   * gives XEN_DOMCTL_createdomain (its `event_channels`, xl's `max_event_channels`;
   * default {@link LIBXL_DEFAULT_EVENT_CHANNELS}), capped at INT_MAX as `evtchn_init`
   * does. Set before the store and console ports are allocated, as Xen has it from the
   * domain's creation.
   */
  readonly maxEvtchnPort?: number;
}

/** What {@link bootDomU} made: the domain and what its toolstack hands to the back ends. */
export interface DomUBoot<A extends ArchTypes = ArchTypes> {
  /** The new domain (unprivileged, vCPU 0 runnable). */
  readonly domain: Domain<A>;
  /** Machine frame of its xenstore ring page (start_info.store_mfn); null if the arch made none. */
  readonly storeMfn: number | null;
  /** Its port for xenstored (start_info.store_evtchn), unbound with remote `storeDomid`. */
  readonly storeEvtchn: number;
  /** Machine frame of its console ring page (start_info.console.domU.mfn); null if none. */
  readonly consoleMfn: number | null;
  /** Its console port (start_info.console.domU.evtchn), unbound with remote `consoleDomid`. */
  readonly consoleEvtchn: number;
}

/** libxl's default domain memory (`max_memkb` 32768 KiB when a config names none). */
const LIBXL_DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024;

/**
 * libxl's `event_channels` when a config names none (or 0): 1023, which it passes as the
 * domain's `max_evtchn_port` (libxl_create.c `libxl__domain_build_info_setdefault`).
 */
export const LIBXL_DEFAULT_EVENT_CHANNELS = 1023;

/**
 * A domU's ramdisk as libxc loads it (xg_dom_core.c `xc_dom_build_module` with
 * `xc_dom_check_gzip`): a file that starts with gzip's magic 1f 8b, is at least 6 bytes
 * long and whose last four bytes (the little-endian uncompressed size) say at most
 * `XC_DOM_DECOMPRESS_MAX` (1 GiB) is inflated into a segment of max(size + 16, file size)
 * bytes, zero past the data; any other file, or one that does not inflate, is loaded as
 * it is.
 */
export function libxcRamdisk(file: Uint8Array): Uint8Array {
  if (file.length < 6 || file[0] !== 0x1f || file[1] !== 0x8b) return file;
  const end = file.length - 4;
  const size = (file[end] | (file[end + 1] << 8) | (file[end + 2] << 16)) + file[end + 3] * 2 ** 24;
  if (size > XC_DOM_DECOMPRESS_MAX) return file;
  let data: Uint8Array;
  try {
    data = gunzipSync(file, { maxOutputLength: size + 16 });
  } catch {
    return file;
  }
  const segment = new Uint8Array(Math.max(size + 16, file.length));
  segment.set(data.subarray(0, segment.length));
  return segment;
}

/**
 * Parses `image` (unless it already is an {@link ElfImage}), creates domain 0 (privileged),
 * lets the arch build it (`ArchPlugin.buildDomain` with `initial: true`) and makes vCPU 0
 * runnable. Image problems surface as the loader's or builder's `ImageError` (too little
 * memory as `DomainMemoryError`); the half-built domain is destroyed first, so the machine is left as it was.
 */
export function bootInitialDomain<A extends ArchTypes>(
  machine: Machine<A>,
  image: Uint8Array | ElfImage,
  options: BootOptions = {},
): Domain<A> {
  return bootDomain(machine, image, options, true, () => ({})).domain;
}

/**
 * Builds and starts a domU from `image` as the toolstack does: parses the image (unless
 * parsed), creates an unprivileged domain with the next free id, caps its event-channel
 * ports at `maxEvtchnPort` (libxl's default 1023), allocates its store port
 * (remote `storeDomid`) and then its console port (remote `consoleDomid`) with
 * {@link evtchnAllocUnbound}, lets the arch build it with `initial: false` (start_info
 * flags without SIF_PRIVILEGED / SIF_INITDOMAIN; store and console frames and ports
 * filled in) and makes vCPU 0 runnable. Errors as {@link bootInitialDomain}: the
 * half-built domain is destroyed (its ports closed) before the `ImageError` propagates.
 * The caller (the toolstack) then introduces the domain to xenstored and the console
 * daemon with the returned frames and ports.
 */
export function bootDomU<A extends ArchTypes>(
  machine: Machine<A>,
  image: Uint8Array | ElfImage,
  options: DomUBootOptions = {},
): DomUBoot<A> {
  const ramdisk = options.ramdisk && libxcRamdisk(options.ramdisk);
  const request = ramdisk === undefined ? options : { ...options, ramdisk };
  return bootDomain(machine, image, request, false, (domain) => {
    domain.eventChannels.maxPort = Math.min(
      options.maxEvtchnPort ?? LIBXL_DEFAULT_EVENT_CHANNELS,
      MAX_EVTCHN_PORT_UNLIMITED,
    );
    const store = evtchnAllocUnbound(machine, domain, options.storeDomid ?? 0);
    const console = evtchnAllocUnbound(machine, domain, options.consoleDomid ?? 0);
    if (store < 0 || console < 0) {
      throw new ImageError(
        ImageErrorCode.UnsupportedFeature,
        "event channels",
        `cannot allocate the store and console ports of domain ${domain.id} (${Math.min(store, console)})`,
      );
    }
    return { storeEvtchn: store, consoleEvtchn: console };
  });
}

/** The one way a domain is booted: parse, create, prepare (ports), build, start vCPU 0. */
function bootDomain<A extends ArchTypes>(
  machine: Machine<A>,
  image: Uint8Array | ElfImage,
  options: BootOptions,
  initial: boolean,
  prepare: (domain: Domain<A>) => { storeEvtchn?: number; consoleEvtchn?: number },
): DomUBoot<A> {
  const arch = machine.arch;
  const mode = options.mode ?? arch.modes[0];
  const parsed =
    image instanceof Uint8Array
      ? parseElf(image, {
          elfMachines: arch.elfMachines,
          elfClasses: arch.elfClasses,
          endianness: arch.endianness,
          pageSize: machine.memory.pageSize,
        })
      : image;
  const domain = machine.createDomain({
    privileged: initial,
    mode,
    vcpus: options.vcpus ?? 1,
    ...(initial ? { id: 0 } : {}),
  });
  let built: DomainBuildResult | void;
  let ports: { storeEvtchn?: number; consoleEvtchn?: number };
  try {
    domain.maxPages = options.maxPages ?? defaultPages(machine, initial);
    ports = prepare(domain);
    built = arch.buildDomain({
      machine,
      domain,
      image: parsed,
      cmdline: options.cmdline ?? "",
      mode,
      initial,
      ...ports,
      ...(options.ramdisk !== undefined ? { ramdisk: options.ramdisk } : {}),
    });
  } catch (err) {
    machine.destroyDomain(domain);
    throw err;
  }
  domain.vcpus[0].state = VcpuState.Runnable;
  return {
    domain,
    storeMfn: built?.storeMfn ?? null,
    storeEvtchn: ports.storeEvtchn ?? 0,
    consoleMfn: built?.consoleMfn ?? null,
    consoleEvtchn: ports.consoleEvtchn ?? 0,
  };
}

function defaultPages(machine: Machine, initial: boolean): number {
  const free = machine.freeFrameCount();
  if (initial) return free;
  const libxl = Math.floor(LIBXL_DEFAULT_MEMORY_BYTES / machine.memory.pageSize);
  return Math.min(libxl, free - Math.max(1, Math.floor(free / 16)));
}
