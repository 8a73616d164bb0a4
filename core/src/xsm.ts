/**
 * XSM: the hook every privileged decision goes through (Xen Security Modules).
 *
 * hvkit ships Xen's default "dummy" policy (xen/include/xsm/dummy.h): the control domain
 * may do everything, a domain may act on itself, everyone may use the harmless queries.
 * A mandatory-access-control policy (Flask-like, with labels in `Domain.xsmLabel`)
 * implements the same interface and is bound to {@link XSM_POLICY} instead.
 *
 * Every method returns 0 to allow or a negative errno (−EPERM) to deny, so a handler can
 * return the result directly.
 *
 * @module
 */
import "reflect-metadata";
import { inject, injectable } from "tsyringe";
import { DomctlCmd } from "./abi/domctl.js";
import { ConsoleIoCmd, XenVersionOp } from "./abi/numbers.js";
import { MACHINE_CONFIG } from "./di.js";
import type { Domain } from "./domain.js";
import { Errno } from "./errno.js";
import type { HypercallArgs, XsmHook } from "./hypercall.js";
import type { MachineConfig } from "./machine.js";

/**
 * The default actions of the dummy policy (Xen's `xsm_default_t`), from most to least
 * permissive.
 */
export enum XsmAction {
  /** Anyone (XSM_HOOK). */
  Hook = 0,
  /** The domain itself, its device model, or the control domain (XSM_TARGET). */
  Target = 1,
  /** The xenstore domain, a device model of the target, or the control domain (XSM_XS_PRIV). */
  XsPriv = 2,
  /** The target's device-model domain, or the control domain (XSM_DM_PRIV). */
  DmPriv = 3,
  /** Only the control domain (XSM_PRIV). */
  Priv = 4,
}

/** The questions the core asks before privileged actions. */
export interface XsmPolicy {
  /**
   * The dispatcher's check of a table entry's hook before the handler runs (e.g. domctl
   * and sysctl: control domain only). `args` are the call's arguments, for hooks that
   * depend on a sub-operation. Hooks whose answer depends on a target domain are asked
   * by the handler instead, once it knows the target.
   */
  checkHypercall(hook: XsmHook, caller: Domain, args: HypercallArgs): number;
  /** May `caller` use console_io command `cmd`? */
  consoleIo(caller: Domain, cmd: number): number;
  /**
   * May `caller` see the real answer of xen_version sub-op `op`? A denial does not fail
   * the call for most sub-ops: the handler returns "<denied>" or zeros instead, as Xen.
   */
  xenVersion(caller: Domain, op: number): number;
  /** May `caller` read `target`'s reservation figures (XENMEM_current_reservation, ...)? */
  memoryStatReservation(caller: Domain, target: Domain): number;
  /** May `caller` send on one of its ports? */
  evtchnSend(caller: Domain): number;
  /** May `caller` query the status of a port of `target`? */
  evtchnStatus(caller: Domain, target: Domain): number;
  /** May `caller` allocate an unbound port in `target` (EVTCHNOP_alloc_unbound)? */
  evtchnUnbound(caller: Domain, target: Domain): number;
  /** May `caller` connect to a port of `remote` (EVTCHNOP_bind_interdomain)? */
  evtchnInterdomain(caller: Domain, remote: Domain): number;
  /** May `caller` close every port of `target` (EVTCHNOP_reset)? */
  evtchnReset(caller: Domain, target: Domain): number;
  /** May `caller` shut `target` down (SCHEDOP_remote_shutdown)? */
  schedopShutdown(caller: Domain, target: Domain): number;
  /**
   * May `caller` issue domctl command `cmd` (a XEN_DOMCTL_* number) on `target`? `target`
   * is null for commands without one (createdomain). Asked by the domctl handler after
   * the interface-version check and the target lookup, as Xen's `xsm_domctl`, so errors
   * come in Xen's order (−EFAULT, −EACCES, −ESRCH, then this answer).
   */
  domctl(caller: Domain, target: Domain | null, cmd: number): number;
  /**
   * May `caller` see `target` in getdomaininfo (domctl) and getdomaininfolist (sysctl,
   * where a denied domain is skipped)? Xen's `xsm_getdomaininfo`.
   */
  getdomaininfo(caller: Domain, target: Domain): number;
  /** May `caller` issue sysctl command `cmd` (a XEN_SYSCTL_* number)? Xen's `xsm_sysctl`. */
  sysctl(caller: Domain, cmd: number): number;
  /**
   * May `caller` create a domain labelled `ssidref` (createdomain's security id)? Xen's
   * `xsm_domain_create`.
   */
  domainCreate(caller: Domain, ssidref: number): number;
  /**
   * May `caller` use grant operation `op` on `target`'s grant table (for copy: `caller`
   * is the source domain, `target` the destination)? Xen's xsm_grant_* hooks.
   */
  grant(op: XsmGrantOp, caller: Domain, target: Domain): number;
  /** May `caller` read the host's memory map (XENMEM_machine_memory_map)? Xen's `xsm_machine_memory_map`. */
  machineMemoryMap(caller: Domain): number;
  /** May `caller` use platform_op command `cmd`? Xen's `xsm_platform_op`. */
  platformOp(caller: Domain, cmd: number): number;
}

/** The grant-table XSM hooks (xsm_grant_setup, xsm_grant_query_size, xsm_grant_mapref, ...). */
export type XsmGrantOp = "setup" | "query_size" | "mapref" | "unmapref" | "copy" | "transfer";

/** Xen's default policy (`xsm/dummy.h`). */
@injectable()
export class DummyXsmPolicy implements XsmPolicy {
  /** @param config - the machine configuration (for {@link MachineConfig.guestConsoleWrite}). */
  constructor(@inject(MACHINE_CONFIG) private readonly config: MachineConfig) {}

  /**
   * The dummy policy's decision table (`xsm_default_action`): `target` null when the
   * action has no target domain. The xenstore-domain and device-model relations do not
   * exist yet, so XsPriv and DmPriv fall through to the control-domain check as Xen does
   * when they do not hold.
   */
  defaultAction(action: XsmAction, src: Domain, target: Domain | null): number {
    switch (action) {
      case XsmAction.Hook:
        return 0;
      case XsmAction.Target:
        if (src === target) return 0;
        break;
      default:
        break;
    }
    return src.privileged ? 0 : -Errno.EPERM;
  }

  /**
   * The dispatcher's check, before the handler runs: the dummy policy lets every call
   * through here, since each of its hypercall decisions needs the request and the handler
   * asks (console_io with its command, as `do_console_io` calls `xsm_console_io`; domctl
   * and sysctl once they have found the target, so the errors come in Xen's order).
   */
  checkHypercall(_hook: XsmHook, _caller: Domain, _args: HypercallArgs): number {
    return 0;
  }

  /**
   * May `caller` use console_io command `cmd`? Xen: the console domain (here: the control domain) may; with CONFIG_VERBOSE_DEBUG
   * ({@link MachineConfig.guestConsoleWrite}) anyone may write; otherwise XSM_PRIV.
   */
  consoleIo(caller: Domain, cmd: number): number {
    if (this.config.guestConsoleWrite && cmd === ConsoleIoCmd.write) return 0;
    return this.defaultAction(XsmAction.Priv, caller, null);
  }

  /**
   * May `caller` see the real answer of xen_version sub-op `op`? version,
   * platform_parameters and get_features ignore the policy; the informational
   * strings and pagesize are always allowed; the rest (commandline, build_id, ...) need
   * the control domain.
   */
  xenVersion(caller: Domain, op: number): number {
    switch (op) {
      case XenVersionOp.version:
      case XenVersionOp.platform_parameters:
      case XenVersionOp.get_features:
      case XenVersionOp.extraversion:
      case XenVersionOp.extraversion2:
      case XenVersionOp.compile_info:
      case XenVersionOp.capabilities:
      case XenVersionOp.capabilities2:
      case XenVersionOp.changeset:
      case XenVersionOp.changeset2:
      case XenVersionOp.pagesize:
      case XenVersionOp.guest_handle:
        return 0;
      default:
        return this.defaultAction(XsmAction.Priv, caller, null);
    }
  }

  /** May `caller` read `target`'s reservation figures? XSM_TARGET. */
  memoryStatReservation(caller: Domain, target: Domain): number {
    return this.defaultAction(XsmAction.Target, caller, target);
  }

  /** May `caller` send on one of its ports? XSM_HOOK: always. */
  evtchnSend(caller: Domain): number {
    return this.defaultAction(XsmAction.Hook, caller, null);
  }

  /** May `caller` query a port of `target`? XSM_TARGET. */
  evtchnStatus(caller: Domain, target: Domain): number {
    return this.defaultAction(XsmAction.Target, caller, target);
  }

  /** May `caller` allocate an unbound port in `target`? XSM_TARGET. */
  evtchnUnbound(caller: Domain, target: Domain): number {
    return this.defaultAction(XsmAction.Target, caller, target);
  }

  /** May `caller` bind to a port of `remote`? XSM_HOOK: always. */
  evtchnInterdomain(caller: Domain, remote: Domain): number {
    return this.defaultAction(XsmAction.Hook, caller, remote);
  }

  /** May `caller` reset `target`'s ports? XSM_TARGET. */
  evtchnReset(caller: Domain, target: Domain): number {
    return this.defaultAction(XsmAction.Target, caller, target);
  }

  /** May `caller` shut `target` down? XSM_DM_PRIV. */
  schedopShutdown(caller: Domain, target: Domain): number {
    return this.defaultAction(XsmAction.DmPriv, caller, target);
  }

  /**
   * domctl `cmd` on `target`: the device-model commands (memory/ioport mapping, pt irq
   * binding) are XSM_DM_PRIV, getdomaininfo XSM_XS_PRIV, everything else XSM_PRIV
   * (dummy.h `xsm_domctl`).
   */
  domctl(caller: Domain, target: Domain | null, cmd: number): number {
    switch (cmd) {
      case DomctlCmd.ioport_mapping:
      case DomctlCmd.memory_mapping:
      case DomctlCmd.bind_pt_irq:
      case DomctlCmd.unbind_pt_irq:
        return this.defaultAction(XsmAction.DmPriv, caller, target);
      case DomctlCmd.getdomaininfo:
        return this.defaultAction(XsmAction.XsPriv, caller, target);
      default:
        return this.defaultAction(XsmAction.Priv, caller, target);
    }
  }

  /** getdomaininfo of `target`: XSM_HOOK (the domctl check already ran). */
  getdomaininfo(caller: Domain, target: Domain): number {
    return this.defaultAction(XsmAction.Hook, caller, target);
  }

  /** Any sysctl: XSM_PRIV. */
  sysctl(caller: Domain, _cmd: number): number {
    return this.defaultAction(XsmAction.Priv, caller, null);
  }

  /** Creating a domain of any label: XSM_HOOK (domctl's XSM_PRIV already ran). */
  domainCreate(caller: Domain, _ssidref: number): number {
    return this.defaultAction(XsmAction.Hook, caller, null);
  }

  /** Grant hooks: setup and query_size are XSM_TARGET; map, unmap, copy, transfer XSM_HOOK. */
  grant(op: XsmGrantOp, caller: Domain, target: Domain): number {
    const action = op === "setup" || op === "query_size" ? XsmAction.Target : XsmAction.Hook;
    return this.defaultAction(action, caller, target);
  }

  /** XENMEM_machine_memory_map: XSM_PRIV. */
  machineMemoryMap(caller: Domain): number {
    return this.defaultAction(XsmAction.Priv, caller, null);
  }

  /** Every platform_op command: XSM_PRIV. */
  platformOp(caller: Domain, _cmd: number): number {
    return this.defaultAction(XsmAction.Priv, caller, null);
  }
}
