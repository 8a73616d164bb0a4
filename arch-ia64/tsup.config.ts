import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts"],
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
});
