/**
 * The checks the repository runs on its own packages, run on a package the scaffold wrote
 * (for the scaffold's tests): its TypeScript typechecks against the workspace's core, passes
 * the repository's lint rules, and every file is laid out as prettier lays it out.
 *
 * @module
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ESLint } from "eslint";
import * as prettier from "prettier";
import ts from "typescript";
import { REPOSITORY_ROOT } from "../testing.js";

/** Every file under `dir`, relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();
}

/**
 * The type errors of the package in `dir` (its `src/`), compiled as the workspace compiles
 * its packages (tsconfig.base.json, the `source` condition), with the workspace's
 * node_modules: `@hvkit/core` is the workspace's core. One message per error, naming the file.
 */
export function typeErrors(dir: string): string[] {
  const home = mkdtempSync(join(tmpdir(), "hvkit-typecheck-"));
  symlinkSync(join(REPOSITORY_ROOT, "node_modules"), join(home, "node_modules"), "dir");
  const copy = join(home, basename(dir));
  mkdirSync(copy);
  cpSync(join(dir, "src"), join(copy, "src"), { recursive: true });
  const base = ts.parseJsonConfigFileContent(
    JSON.parse(readFileSync(join(REPOSITORY_ROOT, "tsconfig.base.json"), "utf8")),
    ts.sys,
    home,
  );
  const files = filesUnder(join(copy, "src"))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(copy, "src", f));
  const program = ts.createProgram(files, {
    ...base.options,
    noEmit: true,
    composite: false,
    declaration: false,
    declarationMap: false,
    emitDeclarationOnly: false,
  });
  return ts
    .getPreEmitDiagnostics(program)
    .map(
      (d) => `${d.file?.fileName ?? ""}: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`,
    );
}

/** A file to check: its path in its package, and its text. */
export interface PackageText {
  /** Path inside the package, `/`-separated. */
  readonly path: string;
  /** The file's text. */
  readonly text: string;
}

/** The files of the package in `dir`, read. */
export function readPackage(dir: string): PackageText[] {
  return filesUnder(dir).map((path) => ({ path, text: readFileSync(join(dir, path), "utf8") }));
}

/**
 * What the repository's `npm run lint` would say of `files` were they the package folder
 * `folder` of the repository: eslint's messages on the TypeScript, and each file prettier
 * would lay out differently.
 */
export async function lintProblems(
  files: readonly PackageText[],
  folder: string,
): Promise<string[]> {
  const eslint = new ESLint({ cwd: REPOSITORY_ROOT });
  const config = await prettier.resolveConfig(join(REPOSITORY_ROOT, "package.json"));
  const problems: string[] = [];
  for (const { path, text } of files) {
    const inRepo = join(REPOSITORY_ROOT, folder, path);
    if (path.endsWith(".ts")) {
      const [result] = await eslint.lintText(text, { filePath: inRepo });
      problems.push(...result.messages.map((m) => `${path}:${m.line}: ${m.message}`));
    }
    const info = await prettier.getFileInfo(inRepo);
    if (
      info.inferredParser !== null &&
      !(await prettier.check(text, { ...config, filepath: inRepo }))
    )
      problems.push(`${path}: not laid out as prettier lays it out`);
  }
  return problems;
}
