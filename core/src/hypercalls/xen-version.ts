/**
 * xen_version (xen/common/kernel.c `do_xen_version`).
 *
 * hvkit reports itself as Xen 4.19 ({@link HVKIT_XEN_VERSION}): the interface it models is Xen's current public ABI (which
 * keeps every 3.0 call a PV guest uses). The capabilities string comes from the arch
 * (`ArchPlugin.capabilities`, else its start_info magic), platform_parameters' virt_start
 * from `ArchPlugin.hypervisorVirtStart` (PV guests only, as Xen), the page size from
 * machine memory.
 *
 * The XSM policy decides, per sub-op, whether the caller sees the real answer. As in Xen,
 * a denial is mostly not an error: strings read "<denied>" (or are zeroed), pagesize reads
 * 0, and only build_id and the variable-length sub-ops fail with −EPERM.
 *
 * @module
 */
import { XenFeature, XenVersionOp } from "../abi/numbers.js";
import { XEN_FEATURE_INFO, XEN_PLATFORM_PARAMETERS } from "../abi/version.js";
import { Errno } from "../errno.js";
import {
  copyToGuest,
  readGuestStruct,
  readGuestU32,
  StructBuffer,
  writeGuestStruct,
} from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";

/**
 * What hvkit reports about itself through xen_version. Fixed strings (no build date or
 * host name), so runs stay deterministic.
 */
export const HVKIT_XEN_VERSION = {
  /** XENVER_version's high 16 bits. */
  major: 4,
  /** XENVER_version's low 16 bits. */
  minor: 19,
  /** XENVER_extraversion: what follows major.minor. */
  extraversion: ".0-hvkit",
  /** XENVER_compile_info.compiler. */
  compiler: "hvkit (TypeScript model)",
  /** XENVER_compile_info.compile_by. */
  compileBy: "hvkit",
  /** XENVER_compile_info.compile_domain. */
  compileDomain: "hvkit.invalid",
  /** XENVER_compile_info.compile_date. */
  compileDate: "n/a",
  /** XENVER_changeset. */
  changeset: "hvkit",
} as const;

/** What a denied string query returns (Xen's `xen_deny()`). */
const DENIED = "<denied>";
/** Longest string the variable-length sub-ops return (Xen's arbitrary 64 KiB). */
const VARBUF_MAX = 0x10000;

const V = HVKIT_XEN_VERSION;
const text = new Uint8Array(1024);
const buf = new StructBuffer(16);

/** `xen_version(cmd, arg)`. */
export function xenVersion(ctx: HypercallContext, args: HypercallArgs): number {
  const { machine, domain, vcpu } = ctx;
  const cmd = args.i32(0);
  const arg = args.u64(1);
  const deny = machine.xsm.xenVersion(domain, cmd) !== 0;
  switch (cmd) {
    case XenVersionOp.version:
      return (V.major << 16) | V.minor;

    case XenVersionOp.extraversion:
      return putString(ctx, arg, deny ? DENIED : V.extraversion, 16);

    case XenVersionOp.compile_info: {
      const info = V;
      text.fill(0, 0, 144);
      encode(deny ? DENIED : info.compiler, 0, 64);
      encode(deny ? DENIED : info.compileBy, 64, 16);
      encode(deny ? DENIED : info.compileDomain, 80, 32);
      encode(deny ? DENIED : info.compileDate, 112, 32);
      return copyToGuest(vcpu, arg, text, 0, 144);
    }

    case XenVersionOp.capabilities:
      return putString(ctx, arg, deny ? "" : capabilities(ctx), 1024);

    case XenVersionOp.changeset:
      return putString(ctx, arg, deny ? DENIED : V.changeset, 64);

    case XenVersionOp.platform_parameters: {
      const layout = XEN_PLATFORM_PARAMETERS.layout(machine.arch.dataModel);
      const start = domain.mode === "pv" ? (machine.arch.hypervisorVirtStart?.(domain) ?? 0n) : 0n;
      layout.set(buf.view, 0, "virt_start", start);
      return writeGuestStruct(vcpu, arg, layout, buf);
    }

    case XenVersionOp.get_features: {
      const layout = XEN_FEATURE_INFO.layout(machine.arch.dataModel);
      if (readGuestStruct(vcpu, arg, layout, buf) !== 0) return -Errno.EFAULT;
      if (layout.getNumber(buf.view, 0, "submap_idx") !== 0) return -Errno.EINVAL;
      let submap = domain.translated ? translatedFeatures() : bit(XenFeature.direct_mapped);
      if (domain.id === 0) submap |= bit(XenFeature.dom0);
      submap |= machine.arch.xenFeatures?.(domain) ?? 0;
      layout.set(buf.view, 0, "submap", submap >>> 0);
      return writeGuestStruct(vcpu, arg, layout, buf);
    }

    case XenVersionOp.pagesize:
      if (deny) return 0;
      return arg !== 0n ? -Errno.EINVAL : machine.memory.pageSize;

    case XenVersionOp.guest_handle:
      text.fill(0, 0, 16);
      if (!deny) text.set(domain.handle, 0);
      return copyToGuest(vcpu, arg, text, 0, 16);

    case XenVersionOp.commandline:
      if (deny) {
        // Xen copies only strlen("<denied>") + 1 bytes here.
        text.fill(0, 0, DENIED.length + 1);
        encode(DENIED, 0, DENIED.length + 1);
        return copyToGuest(vcpu, arg, text, 0, DENIED.length + 1);
      }
      return putString(ctx, arg, machine.config.commandLine, 1024);

    case XenVersionOp.build_id:
    case XenVersionOp.extraversion2:
    case XenVersionOp.capabilities2:
    case XenVersionOp.changeset2:
    case XenVersionOp.commandline2:
      if (deny) return -Errno.EPERM;
      return varbuf(ctx, cmd, arg);

    default:
      return -Errno.ENOSYS;
  }
}

function bit(feature: XenFeature): number {
  return 1 << feature;
}

/** Features of a domain whose guest-physical space the hypervisor translates (HVM). */
function translatedFeatures(): number {
  return (
    bit(XenFeature.writable_page_tables) |
    bit(XenFeature.auto_translated_physmap) |
    bit(XenFeature.not_direct_mapped)
  );
}

function capabilities(ctx: HypercallContext): string {
  return ctx.machine.arch.capabilities ?? ctx.machine.arch.startInfoMagic;
}

/** Writes `s` (Latin-1, truncated to leave a NUL) into `text[at, at + size)`. */
function encode(s: string, at: number, size: number): void {
  const n = Math.min(s.length, size - 1);
  for (let i = 0; i < n; i++) text[at + i] = s.charCodeAt(i) & 0xff;
}

/** Copies `s` as a NUL-padded `char[size]` to the guest. */
function putString(ctx: HypercallContext, va: bigint, s: string, size: number): number {
  text.fill(0, 0, size);
  encode(s, 0, size);
  return copyToGuest(ctx.vcpu, va, text, 0, size);
}

/**
 * The variable-length sub-ops (`struct xen_varbuf { u32 len; u8 buf[]; }`): a NULL
 * argument asks for the length; otherwise the string is copied if `len` is large enough
 * (−ENOBUFS if not) and its length returned. No NUL is written.
 */
function varbuf(ctx: HypercallContext, cmd: number, arg: bigint): number {
  let s: string;
  switch (cmd) {
    case XenVersionOp.extraversion2:
      s = V.extraversion;
      break;
    case XenVersionOp.changeset2:
      s = V.changeset;
      break;
    case XenVersionOp.commandline2:
      s = ctx.machine.config.commandLine;
      break;
    case XenVersionOp.capabilities2:
      s = capabilities(ctx);
      break;
    default:
      // XENVER_build_id: hvkit is built without a build id.
      return -Errno.ENODATA;
  }
  const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
  if (bytes.length > VARBUF_MAX) return -Errno.E2BIG;
  if (arg === 0n) return bytes.length;
  const len = readGuestU32(ctx.vcpu, arg);
  if (len < 0) return -Errno.EFAULT;
  if (bytes.length > len) return -Errno.ENOBUFS;
  if (copyToGuest(ctx.vcpu, arg + 4n, bytes) !== 0) return -Errno.EFAULT;
  return bytes.length;
}
