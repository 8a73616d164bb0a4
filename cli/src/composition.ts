/**
 * The composition root: the one place where hvkit's parts are put together. It registers
 * the arch plugins (the core's `ARCH_PLUGINS` set) and their `ArchRegistry` in a root
 * container — a child of tsyringe's global container, which is never written to. Each
 * machine later gets a child container of its own (`createMachine`).
 *
 * @module
 */
import { container, type DependencyContainer } from "tsyringe";
import { ARCH_PLUGINS, ARCH_REGISTRY, ArchRegistry, type ArchPlugin } from "@hvkit/core";
import { builtinArchPlugins } from "./arch-packages.js";

/** Builds the root container with `plugins` (default: hvkit's own arch packages). */
export function createRootContainer(
  plugins: readonly ArchPlugin[] = builtinArchPlugins(),
): DependencyContainer {
  const root = container.createChildContainer();
  for (const p of plugins) root.register(ARCH_PLUGINS, { useValue: p });
  root.register(ARCH_REGISTRY, { useValue: new ArchRegistry([...plugins]) });
  return root;
}
