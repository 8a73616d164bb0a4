/**
 * The composition root: the one place where hvkit's parts are put together. It registers
 * the arch plugins (the core's `ARCH_PLUGINS` set) and the guest adapters
 * (`GUEST_ADAPTERS`) with their registries in a root container — a child of tsyringe's
 * global container, which is never written to. Each machine later gets a child container
 * of its own (`createMachine`). The plugins are whatever `plugins.ts` finds.
 *
 * @module
 */
// tsyringe needs the Reflect metadata polyfill before it loads. The built CLI bundles this
// module into a chunk shared by its entries, so it loads the polyfill itself.
import "reflect-metadata";
import { container, type DependencyContainer } from "tsyringe";
import {
  ARCH_PLUGINS,
  ARCH_REGISTRY,
  ArchRegistry,
  GUEST_ADAPTER_REGISTRY,
  GUEST_ADAPTERS,
  GuestAdapterRegistry,
  type ArchPlugin,
  type GuestAdapter,
} from "@hvkit/core";
import { loadPlugins, type PluginSearch } from "./plugins.js";

/** Builds the root container with `arches` and `guests`. */
export function createRootContainer(
  arches: readonly ArchPlugin[],
  guests: readonly GuestAdapter[] = [],
): DependencyContainer {
  const root = container.createChildContainer();
  for (const p of arches) root.register(ARCH_PLUGINS, { useValue: p });
  for (const g of guests) root.register(GUEST_ADAPTERS, { useValue: g });
  root.register(ARCH_REGISTRY, { useValue: new ArchRegistry([...arches]) });
  root.register(GUEST_ADAPTER_REGISTRY, { useValue: new GuestAdapterRegistry([...guests]) });
  return root;
}

/**
 * Builds the root container with the plugin packages found from the command and those
 * `search.extra` names (`--plugin`); throws `PluginError` for a package that cannot be used.
 */
export async function discoverRootContainer(
  search: PluginSearch = {},
): Promise<DependencyContainer> {
  const { arches, guests } = await loadPlugins(search);
  return createRootContainer(arches, guests);
}
