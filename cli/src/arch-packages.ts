/**
 * The arch plugins the `hvkit` command offers: every `ArchPlugin` that hvkit's arch
 * packages export. A new port's package is added to the list here.
 *
 * @module
 */
import type { ArchPlugin } from "@hvkit/core";
import * as archX86 from "@hvkit/arch-x86";
import * as archX86_64 from "@hvkit/arch-x86_64";
import * as archIa64 from "@hvkit/arch-ia64";
import * as archPpc from "@hvkit/arch-ppc";

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

/** The plugins exported by hvkit's own arch packages, x86_64 first, each name once. */
export function builtinArchPlugins(): ArchPlugin[] {
  const byName = new Map<string, ArchPlugin>();
  for (const mod of [archX86_64, archX86, archIa64, archPpc]) {
    for (const value of Object.values(mod as Record<string, unknown>)) {
      if (isArchPlugin(value) && !byName.has(value.name)) byName.set(value.name, value);
    }
  }
  return [...byName.values()];
}
