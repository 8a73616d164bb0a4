/**
 * The arch plugins the `hvkit` command knows: every `ArchPlugin` the arch packages export,
 * registered once in the root container. A new port's package is added here.
 *
 * @module
 */
import type { InjectionToken } from "tsyringe";
import type { ArchPlugin } from "@hvkit/core";
import * as archX86 from "@hvkit/arch-x86";
import * as archX86_64 from "@hvkit/arch-x86_64";
import * as archIa64 from "@hvkit/arch-ia64";
import * as archPpc from "@hvkit/arch-ppc";

/** The registered arch plugins, by name. */
export interface ArchCatalog {
  /** Every plugin, in registration order. */
  readonly plugins: readonly ArchPlugin[];
  /** The plugin named `name`, if registered. */
  get(name: string): ArchPlugin | undefined;
}

/** Root-container token of the {@link ArchCatalog}. */
export const ARCH_CATALOG: InjectionToken<ArchCatalog> = Symbol("ArchCatalog");

/** True for a value that has the shape of an {@link ArchPlugin}. */
export function isArchPlugin(value: unknown): value is ArchPlugin {
  const v = value as Partial<ArchPlugin> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.name === "string" &&
    Array.isArray(v.modes) &&
    typeof v.createVcpu === "function" &&
    typeof v.buildDomain === "function"
  );
}

/** Builds a catalog of `plugins` (the first of each name wins). */
export function archCatalog(plugins: readonly ArchPlugin[]): ArchCatalog {
  const byName = new Map<string, ArchPlugin>();
  for (const p of plugins) if (!byName.has(p.name)) byName.set(p.name, p);
  return { plugins: [...byName.values()], get: (name) => byName.get(name) };
}

/** The plugins exported by hvkit's own arch packages, x86_64 first. */
export function builtinArchPlugins(): ArchPlugin[] {
  return [archX86_64, archX86, archIa64, archPpc].flatMap((mod) =>
    Object.values(mod as Record<string, unknown>).filter(isArchPlugin),
  );
}
