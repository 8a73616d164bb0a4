/**
 * The x86 part of a domain's configuration (`struct xen_arch_domainconfig`, public
 * arch-x86/xen.h of Xen 4.19) as domctl createdomain takes it: which devices Xen emulates
 * (`emulation_flags`, XEN_X86_EMU_*) and `misc_flags`, whose one flag,
 * XEN_X86_MSR_RELAXED, makes accesses to MSRs Xen does not handle read as 0 and drop
 * writes instead of raising #GP (without giving the guest the real MSR).
 *
 * @module
 */
import { Errno, type DataModel, type GuestMode } from "@hvkit/core";
import { XEN_ARCH_DOMAINCONFIG_X86 } from "./abi.js";

/** XEN_X86_MSR_RELAXED: `misc_flags` bit 0 (XEN_X86_MISC_FLAGS_MAX). */
export const XEN_X86_MSR_RELAXED = 1;

/** XEN_X86_EMU_PIT: the emulated PIT, the one device a PV domain may have. */
export const XEN_X86_EMU_PIT = 1 << 8;

/** XEN_X86_EMU_ALL: LAPIC, HPET, PM, RTC, IOAPIC, PIC, VGA, IOMMU, PIT, USE_PIRQ, VPCI. */
export const XEN_X86_EMU_ALL = 0x7ff;

/** What an x86 domain takes from its `xen_arch_domainconfig`. */
export interface X86DomainConfig {
  /** XEN_X86_EMU_* of the devices Xen emulates for it. */
  readonly emulationFlags: number;
  /** Whether unhandled MSR accesses are relaxed (XEN_X86_MSR_RELAXED). */
  readonly msrRelaxed: boolean;
}

/** Reads `config` (a `xen_arch_domainconfig` laid out by `model`, from byte 0). */
export function readX86DomainConfig(config: DataView, model: DataModel): X86DomainConfig {
  const l = XEN_ARCH_DOMAINCONFIG_X86.layout(model);
  return {
    emulationFlags: l.getNumber(config, 0, "emulation_flags"),
    msrRelaxed: (l.getNumber(config, 0, "misc_flags") & XEN_X86_MSR_RELAXED) !== 0,
  };
}

/**
 * arch_sanitise_domain_config and arch_domain_create's checks of `config` for a domain of
 * `mode` (not the hardware domain): −EINVAL for a `misc_flags` bit other than
 * XEN_X86_MSR_RELAXED or an `emulation_flags` bit outside XEN_X86_EMU_ALL; −EOPNOTSUPP
 * (emulation_flags_ok) when a PV domain asks for devices other than none or the PIT alone.
 * (Xen's rules for HVM domains will join when hvkit runs them.)
 */
export function checkX86DomainConfig(config: DataView, model: DataModel, mode: GuestMode): number {
  const l = XEN_ARCH_DOMAINCONFIG_X86.layout(model);
  const misc = l.getNumber(config, 0, "misc_flags");
  const emu = l.getNumber(config, 0, "emulation_flags");
  if ((misc & ~XEN_X86_MSR_RELAXED) !== 0) return -Errno.EINVAL;
  if ((emu & ~XEN_X86_EMU_ALL) !== 0) return -Errno.EINVAL;
  if (mode === "pv" && emu !== 0 && emu !== XEN_X86_EMU_PIT) return -Errno.EOPNOTSUPP;
  return 0;
}
