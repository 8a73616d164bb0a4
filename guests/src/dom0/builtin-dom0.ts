/**
 * A built-in dom0 for running images as domUs (`hvkit run --role domu`): domain 0 exists,
 * privileged, but its "kernel" is host code — the toolstack (xl/libxl's domain creation),
 * xenstored ({@link XenstoreService}) and the console daemon ({@link ConsoleDaemon}) —
 * that runs inside the machine's deterministic event loop. Its event channels go to a
 * host-side handler (`attachHostEvents` in the core): when a domU notifies its store or
 * console port, the services run between scheduling slices, at that virtual time.
 *
 * The domain has one vCPU that never comes up and owns no memory. It binds VIRQ_DOM_EXC,
 * so when a domU shuts down or is destroyed (the core raises it, as Xen does) xenstored
 * checks its domains (firing `@releaseDomain`, releasing destroyed ones), the toolstack
 * drains that domU's console, carries out the domU's shutdown action if it was given one
 * (xl's `on_poweroff`, `on_reboot`, `on_watchdog`, `on_crash`: destroy it, destroy it and
 * build it again from the same image and options as a new domain, or leave it) and,
 * once no domU it launched is left running, powers dom0 off too — as `xl create -c`
 * returns when its guest has gone — so `Machine.run` ends with "all-shutdown" and the
 * domUs' outcomes say how they ended.
 *
 * @module
 */
import {
  attachHostEvents,
  bootDomU,
  DomainState,
  evtchnBindVirq,
  HvkitError,
  ShutdownReason,
  Virq,
  type Domain,
  type DomUBoot,
  type DomUBootOptions,
  type ElfImage,
  type Machine,
} from "@hvkit/core";
import { ConsoleDaemon, type ConsoleOutput } from "../console/daemon.js";
import { XenstoreService } from "../xenstore/service.js";
import {
  createDomainHome,
  pvControlAcknowledged,
  requestPvControl,
  type PvControlRequest,
} from "../xenstore/toolstack.js";
import type { ShutdownActionReason, ShutdownActions } from "../xl/domain-config.js";

/** How the built-in dom0 is set up. */
export interface BuiltinDom0Options {
  /** Where domU console output goes (default: the machine's console sink). */
  readonly consoleOutput?: ConsoleOutput;
  /**
   * Power dom0 off once every domU it launched has shut down (default true), so a run
   * ends when its guests do.
   */
  readonly poweroffWhenIdle?: boolean;
  /** Where the toolstack's own messages go (a domU restarted ...; default: the machine's). */
  readonly log?: (line: string) => void;
}

/** How to launch one domU ({@link BuiltinDom0.launch}). */
export interface DomULaunchOptions extends DomUBootOptions {
  /** The domain's name in xenstore (default `domU-<id>`). */
  readonly name?: string;
  /**
   * Its static maximum in KiB, `memory/static-max` (xl's `maxmem`; default the memory it
   * is built with, `maxPages`). Only the guest's balloon driver reads it.
   */
  readonly maxMemoryKiB?: number;
  /**
   * vCPUs online at boot (xl's `vcpus` below `maxvcpus`; default all): the first ones are
   * `online` in `cpu/<n>/availability`, the rest `offline`, for the guest to honour.
   */
  readonly onlineVcpus?: number;
  /**
   * What to do when the domain shuts down, per reason (xl's `on_<reason>`): `destroy`
   * it, `restart` it (destroy it, then launch the same image with the same options as a
   * new domain, as xl does), or `preserve` it (leave it shut down). A reason without an
   * action (and suspend and soft reset, which have none here) leaves the domain as it
   * ended.
   */
  readonly onShutdown?: ShutdownActions;
}

/**
 * The memory libxl lets a domain grow past the size it is built with (x86's
 * `libxl__arch_extra_memory`: LIBXL_MAXMEM_CONSTANT, 1024 KiB): `xc_domain_setmaxmem` is
 * given `target_memkb` plus this, so a PV guest may populate that much more.
 */
export const LIBXL_MAXMEM_CONSTANT_KIB = 1024;

/** The xl key of each shutdown reason that has an action. */
const ACTION_REASON: Partial<Record<ShutdownReason, ShutdownActionReason>> = {
  [ShutdownReason.Poweroff]: "poweroff",
  [ShutdownReason.Reboot]: "reboot",
  [ShutdownReason.Watchdog]: "watchdog",
  [ShutdownReason.Crash]: "crash",
};

/** A domU launched, with what is needed to build it again. */
interface LaunchedDomU {
  readonly boot: DomUBoot;
  readonly image: Uint8Array | ElfImage;
  readonly options: DomULaunchOptions;
  /** Its shutdown has been acted on. */
  handled: boolean;
}

/** Domain 0 as host code: toolstack, xenstored and console daemon. */
export class BuiltinDom0 {
  /** Domain 0 (privileged, no memory, its vCPU never runs). */
  readonly domain: Domain;
  /** xenstored, serving every domU's store ring. */
  readonly xenstore: XenstoreService;
  /** The console daemon, serving every domU's console ring. */
  readonly consoles: ConsoleDaemon;
  /** The domUs launched, in order. */
  readonly launched: DomUBoot[] = [];
  private readonly domUs: LaunchedDomU[] = [];
  private readonly domExcPort: number;
  private readonly poweroffWhenIdle: boolean;
  private readonly log: (line: string) => void;

  /**
   * Creates domain 0 in `machine` (which must have no domain 0 yet) with host-side event
   * delivery and binds VIRQ_DOM_EXC. Throws a config error if domain 0 exists.
   */
  constructor(
    private readonly machine: Machine,
    options: BuiltinDom0Options = {},
  ) {
    this.domain = machine.createDomain({
      privileged: true,
      mode: machine.arch.modes[0],
      vcpus: 1,
      id: 0,
    });
    attachHostEvents(machine, this.domain, (port) => this.onEvent(port));
    this.xenstore = new XenstoreService(machine, this.domain);
    this.consoles = new ConsoleDaemon(machine, this.domain, options.consoleOutput);
    this.domExcPort = evtchnBindVirq(machine, this.domain, Virq.dom_exc, 0);
    this.poweroffWhenIdle = options.poweroffWhenIdle ?? true;
    this.log = options.log ?? ((line) => machine.console.hypervisorMessage(line));
  }

  /**
   * Creates a domU from `image` as xl does: `bootDomU` (ports for dom0, then the build
   * with `maxPages` pages), its maximum raised by {@link LIBXL_MAXMEM_CONSTANT_KIB}, its
   * xenstore home (`createDomainHome`: name, domid, memory, store, vCPU and console
   * nodes), XS_INTRODUCE to xenstored with the store page and port, and the console
   * daemon attached to its console ring. Image errors propagate as `ImageError` (nothing
   * is left behind); the domain starts running with the next `Machine.run` (or at once
   * when launched from inside one).
   */
  launch(image: Uint8Array | ElfImage, options: DomULaunchOptions = {}): DomUBoot {
    const boot = bootDomU(this.machine, image, options);
    const d = boot.domain;
    const pageKiB = this.machine.memory.pageSize / 1024;
    const builtKiB = d.maxPages * pageKiB;
    d.maxPages += Math.ceil(LIBXL_MAXMEM_CONSTANT_KIB / pageKiB);
    try {
      if (boot.storeMfn !== null) {
        createDomainHome(this.xenstore.daemon, {
          domid: d.id,
          name: options.name ?? `domU-${d.id}`,
          storePort: boot.storeEvtchn,
          storeRingRef: boot.storeMfn,
          ...(boot.consoleMfn !== null
            ? { console: { port: boot.consoleEvtchn, ringRef: boot.consoleMfn } }
            : {}),
          memoryKiB: builtKiB,
          staticMaxKiB: options.maxMemoryKiB ?? builtKiB,
          vcpus: { max: d.vcpus.length, online: options.onlineVcpus ?? d.vcpus.length },
        });
        const rc = this.xenstore.introduce(d, boot.storeMfn, boot.storeEvtchn);
        if (rc !== 0) throw new HvkitError(`xenstored refused to introduce domain ${d.id}: ${rc}`);
      }
      if (boot.consoleMfn !== null) {
        const rc = this.consoles.attach(d, boot.consoleMfn, boot.consoleEvtchn);
        if (rc < 0) throw new HvkitError(`console daemon cannot attach domain ${d.id}: ${rc}`);
      }
    } catch (err) {
      this.machine.destroyDomain(d);
      throw err;
    }
    this.launched.push(boot);
    this.domUs.push({ boot, image, options, handled: false });
    return boot;
  }

  /** Carries out the shutdown action of each domU that has newly shut down. */
  private actOnShutdowns(): void {
    for (const domU of [...this.domUs]) {
      const d = domU.boot.domain;
      if (domU.handled || d.state !== DomainState.Shutdown || d.shutdownReason === null) continue;
      domU.handled = true;
      const reason = ACTION_REASON[d.shutdownReason];
      const action = reason === undefined ? undefined : domU.options.onShutdown?.[reason];
      if (action === undefined || action === "preserve") continue;
      this.machine.destroyDomain(d);
      if (action !== "restart") continue;
      const what = `domain ${d.id} (${domU.options.name ?? `domU-${d.id}`}) shut down (${reason}): on_${reason} = "restart"`;
      try {
        const again = this.launch(domU.image, domU.options);
        this.log(`${what}: started again as domain ${again.domain.id}`);
      } catch (err) {
        this.log(`${what}, but it cannot be built again: ${(err as Error).message}`);
      }
    }
  }

  private onEvent(port: number): void {
    if (port === this.domExcPort) {
      this.consoles.serviceAll();
      this.xenstore.domainException();
      this.actOnShutdowns();
      if (
        this.poweroffWhenIdle &&
        this.launched.length > 0 &&
        this.launched.every((b) => b.domain.isDead)
      ) {
        this.machine.shutdownDomain(this.domain, ShutdownReason.Poweroff);
      }
      return;
    }
    if (!this.consoles.handleEvent(port)) this.xenstore.poll();
  }

  /**
   * Asks domU `domid` to power off or reboot, as `xl shutdown` / `xl reboot` do
   * (libxl__domain_pvcontrol): `request` goes to its `control/shutdown` and xenstored
   * serves the rings at once, so the guest's watch fires; the guest acknowledges by
   * emptying the node ({@link BuiltinDom0.controlAcknowledged}) and shuts itself down.
   * Throws a typed error for a domain this dom0 did not launch or one already destroyed.
   */
  requestShutdown(domid: number, request: PvControlRequest = "poweroff"): void {
    const boot = this.launched.find((b) => b.domain.id === domid);
    // libxl asks any domain that still exists (a shut-down one just never answers).
    if (boot === undefined || this.machine.domains.get(domid) !== boot.domain) {
      throw new HvkitError(`no domU ${domid} to ask to ${request}`);
    }
    requestPvControl(this.xenstore.daemon, domid, request);
    this.xenstore.poll();
  }

  /** Whether domU `domid` has acknowledged the last {@link BuiltinDom0.requestShutdown}. */
  controlAcknowledged(domid: number): boolean {
    return pvControlAcknowledged(this.xenstore.daemon, domid);
  }
}
