/**
 * The composition root: the one place where hvkit's parts are put together. It registers
 * the arch plugins in a root container (a child of tsyringe's global container, which is
 * never written to); each machine later gets a child container of its own.
 *
 * @module
 */
import { container, type DependencyContainer, type InjectionToken } from "tsyringe";
import * as core from "@hvkit/core";
import type { ArchPlugin } from "@hvkit/core";
import { ARCH_CATALOG, archCatalog, builtinArchPlugins } from "./arch-catalog.js";

/** Builds the root container with `plugins` (default: hvkit's own arch packages). */
export function createRootContainer(
  plugins: readonly ArchPlugin[] = builtinArchPlugins(),
): DependencyContainer {
  const root = container.createChildContainer();
  const catalog = archCatalog(plugins);
  root.register(ARCH_CATALOG, { useValue: catalog });
  // The core's machine factory finds arch plugins through its ARCH_PLUGINS set.
  const archPlugins = (core as unknown as { ARCH_PLUGINS?: InjectionToken<ArchPlugin> })
    .ARCH_PLUGINS;
  if (archPlugins !== undefined)
    for (const p of catalog.plugins) root.register(archPlugins, { useValue: p });
  return root;
}
