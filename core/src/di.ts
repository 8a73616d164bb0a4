/**
 * Dependency-injection tokens (tsyringe).
 *
 * The composition root (the CLI, the conformance runner, a test) registers plugins and
 * sinks in a container of its own; `createMachine` makes a child container per machine,
 * binds that machine's configuration and arch there and resolves the machine from it, so
 * two machines never share mutable state. Nothing is registered in tsyringe's global
 * container. esbuild emits no decorator metadata, so every constructor parameter names
 * its token with `@inject(TOKEN)` (or `@injectAll(TOKEN)` for plugin sets).
 *
 * @module
 */
import type { InjectionToken } from "tsyringe";
import type { ArchPlugin } from "./arch-plugin.js";
import type { GuestAdapter } from "./guest-adapter.js";
import type { HypercallEntry, HypercallObserver } from "./hypercall.js";
import type { ConsoleSink, Machine, MachineConfig } from "./machine.js";
import type { ArchRegistry, GuestAdapterRegistry } from "./registry.js";
import type { XsmPolicy } from "./xsm.js";

/**
 * Every arch plugin the composition root offers (a plugin set: register each with
 * `register(ARCH_PLUGINS, { useValue: plugin })`). The {@link ARCH_REGISTRY} collects them.
 * A plugin object is shared by all machines, so it must keep no per-machine state
 * outside the vCPUs and domains it is given.
 */
export const ARCH_PLUGINS: InjectionToken<ArchPlugin> = Symbol("hvkit.ArchPlugins");

/** The arch plugin of one machine (bound in the machine's child container). */
export const ARCH_PLUGIN: InjectionToken<ArchPlugin> = Symbol("hvkit.ArchPlugin");

/** Every guest adapter the composition root offers (a plugin set, like {@link ARCH_PLUGINS}). */
export const GUEST_ADAPTERS: InjectionToken<GuestAdapter> = Symbol("hvkit.GuestAdapters");

/** The arch registry (by name). */
export const ARCH_REGISTRY: InjectionToken<ArchRegistry> = Symbol("hvkit.ArchRegistry");

/** The guest-adapter registry (by name). */
export const GUEST_ADAPTER_REGISTRY: InjectionToken<GuestAdapterRegistry> = Symbol(
  "hvkit.GuestAdapterRegistry",
);

/** The configuration of one machine (bound in its child container, defaults filled in). */
export const MACHINE_CONFIG: InjectionToken<MachineConfig> = Symbol("hvkit.MachineConfig");

/**
 * Where console output and hypervisor messages go. Optional: a machine whose containers
 * bind none records output in a `RecordingConsoleSink`.
 */
export const CONSOLE_SINK: InjectionToken<ConsoleSink> = Symbol("hvkit.ConsoleSink");

/** The XSM policy. Optional: the default is `DummyXsmPolicy` (Xen's dummy module). */
export const XSM_POLICY: InjectionToken<XsmPolicy> = Symbol("hvkit.XsmPolicy");

/**
 * Extra hypercall-table rows contributed by core modules or tests (a plugin set), merged
 * with the core's rows and the arch's `hypercalls()`. Each number may be declared once.
 */
export const HYPERCALL_ENTRIES: InjectionToken<HypercallEntry> = Symbol("hvkit.HypercallEntries");

/** The machine itself, bound in its child container once created. */
export const MACHINE: InjectionToken<Machine> = Symbol("hvkit.Machine");

/**
 * Observers of every dispatched hypercall (a plugin set, optional): a tracer, a statistics
 * collector. Bound in the container a machine is created from; see {@link HypercallObserver}.
 */
export const HYPERCALL_OBSERVERS: InjectionToken<HypercallObserver> = Symbol(
  "hvkit.HypercallObservers",
);
