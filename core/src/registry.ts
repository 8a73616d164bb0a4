/**
 * Registries of the plugins a composition root offers: arch plugins and guest adapters,
 * looked up by name. Each is built from its plugin set ({@link ARCH_PLUGINS},
 * {@link GUEST_ADAPTERS}) and may be added to afterwards.
 *
 * @module
 */
import "reflect-metadata";
import { injectable, injectAll } from "tsyringe";
import type { ArchPlugin } from "./arch-plugin.js";
import { ARCH_PLUGINS, GUEST_ADAPTERS } from "./di.js";
import { HvkitError } from "./errors.js";
import type { GuestAdapter } from "./guest-adapter.js";

/** A name that no registered plugin has; the message lists the names that exist. */
export class UnknownPluginError extends HvkitError {
  /**
   * @param kind - what was looked up (`arch`, `guest adapter`).
   * @param requested - the name asked for.
   * @param known - the registered names.
   */
  constructor(
    readonly kind: string,
    readonly requested: string,
    readonly known: readonly string[],
  ) {
    super(
      `unknown ${kind} "${requested}" (known: ${known.length > 0 ? known.join(", ") : "none registered"})`,
    );
  }
}

/** A second plugin with a name already registered. */
export class DuplicatePluginError extends HvkitError {}

/** Plugins of one kind by name, in registration order. */
class NamedRegistry<T extends { readonly name: string }> {
  private readonly byName = new Map<string, T>();

  constructor(private readonly kind: string) {}

  register(plugin: T): void {
    if (this.byName.has(plugin.name)) {
      throw new DuplicatePluginError(`${this.kind} "${plugin.name}" is registered twice`);
    }
    this.byName.set(plugin.name, plugin);
  }

  get(name: string): T {
    const p = this.byName.get(name);
    if (p === undefined) throw new UnknownPluginError(this.kind, name, this.names());
    return p;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): T[] {
    return [...this.byName.values()];
  }
}

/** Arch plugins by name. */
@injectable()
export class ArchRegistry {
  private readonly registry = new NamedRegistry<ArchPlugin>("arch");

  /** @param plugins - the plugin set bound to {@link ARCH_PLUGINS} (may be empty). */
  constructor(@injectAll(ARCH_PLUGINS, { isOptional: true }) plugins: ArchPlugin[] = []) {
    for (const p of plugins ?? []) this.register(p);
  }

  /** Adds `plugin`; throws {@link DuplicatePluginError} if its name is taken. */
  register(plugin: ArchPlugin): void {
    this.registry.register(plugin);
  }

  /** The plugin called `name`; throws {@link UnknownPluginError} listing the known names. */
  get(name: string): ArchPlugin {
    return this.registry.get(name);
  }

  /** True when a plugin called `name` is registered. */
  has(name: string): boolean {
    return this.registry.has(name);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return this.registry.names();
  }

  /** Registered plugins, in registration order. */
  all(): ArchPlugin[] {
    return this.registry.all();
  }
}

/** Guest adapters by name. */
@injectable()
export class GuestAdapterRegistry {
  private readonly registry = new NamedRegistry<GuestAdapter>("guest adapter");

  /** @param adapters - the plugin set bound to {@link GUEST_ADAPTERS} (may be empty). */
  constructor(@injectAll(GUEST_ADAPTERS, { isOptional: true }) adapters: GuestAdapter[] = []) {
    for (const a of adapters ?? []) this.register(a);
  }

  /** Adds `adapter`; throws {@link DuplicatePluginError} if its name is taken. */
  register(adapter: GuestAdapter): void {
    this.registry.register(adapter);
  }

  /** The adapter called `name`; throws {@link UnknownPluginError} listing the known names. */
  get(name: string): GuestAdapter {
    return this.registry.get(name);
  }

  /** True when an adapter called `name` is registered. */
  has(name: string): boolean {
    return this.registry.has(name);
  }

  /** Registered names, in registration order. */
  names(): string[] {
    return this.registry.names();
  }

  /** Registered adapters, in registration order. */
  all(): GuestAdapter[] {
    return this.registry.all();
  }
}
