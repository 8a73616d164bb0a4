import type { Options } from "tsup";

/**
 * The one tsup configuration every hvkit package builds with: ESM + `.d.ts` for Node 20.
 * @param entry - the package's entry files (its `src/index.ts`, plus any binaries).
 */
export function packageConfig(entry: string[]): Options {
  return {
    entry,
    format: ["esm"],
    // The tsconfig is a composite project (for `tsc --build`); the .d.ts bundler wants a
    // plain one, and resolves other workspace packages through their built declarations.
    dts: { compilerOptions: { composite: false, customConditions: [] } },
    // Every package from node_modules stays an import: one tsyringe (one decorator registry)
    // is shared by all hvkit packages at run time.
    skipNodeModulesBundle: true,
    clean: true,
    target: "node20",
    tsconfig: "tsconfig.json",
  };
}
