/**
 * Writing a port's package, the one path of `hvkit new-arch` and `hvkit new-guest`: decide
 * its home (hvkit's workspace or standing alone), write its files, wire it into the
 * workspace, and say what was done and what to run next.
 *
 * @module
 */
import { resolve } from "node:path";
import {
  checkTarget,
  hvkitVersion,
  writePackage,
  type PortNames,
  type ScaffoldFile,
  type ScaffoldHome,
} from "./package-scaffold.js";
import { isHvkitWorkspace, wireIntoWorkspace, type BaselineSpec } from "./workspace.js";

/** A port to write. */
export interface PortScaffold {
  /** Its names. */
  readonly names: PortNames;
  /** The folder its package folder is made in. */
  readonly parent: string;
  /** Its package's files, for a home. */
  files(home: ScaffoldHome): ScaffoldFile[];
  /** The baseline entry for its cells, in the workspace. */
  readonly baseline: BaselineSpec;
  /** The `hvkit conformance` options that select its cells (`--arch riscv64`). */
  readonly select: string;
  /** What those cells show at first. */
  readonly firstRun: string;
  /** Notes on what the options left open. */
  readonly notes: readonly string[];
}

/**
 * Writes `port`'s package (never over an existing folder) and wires it into hvkit's
 * workspace when it lands in one; returns the report: the files written, the notes, the
 * workspace files changed and the next steps.
 */
export function writePort(port: PortScaffold): string {
  const { names: n } = port;
  const parent = resolve(port.parent);
  checkTarget(parent, n.folder);
  const home: ScaffoldHome = {
    workspace: isHvkitWorkspace(parent, n.folder),
    version: hvkitVersion(),
  };
  const files = port.files(home);
  writePackage(parent, n.folder, files);
  const out: string[] = [
    `wrote ${resolve(parent, n.folder)}/:`,
    ...files.map((f) => `  ${f.path}`),
  ];
  for (const note of port.notes) out.push("", `note: ${note}`);
  const next = ["", "next:"];
  if (home.workspace) {
    const packageJson = files.find((f) => f.path === "package.json")!.text;
    const changes = wireIntoWorkspace(parent, { folder: n.folder, packageJson }, port.baseline);
    if (changes.length > 0)
      out.push("", "changed in the workspace:", ...changes.map((c) => `  ${c}`));
    next.push(`  npm run hvkit -- conformance ${port.select}   # ${port.firstRun}`);
  } else {
    next.push(
      `  cd ${n.folder} && npm install && npm test`,
      `  hvkit conformance --plugin ./${n.folder} ${port.select}   # ${port.firstRun}`,
    );
  }
  next.push(`  then work down ${n.folder}/README.md`);
  return [...out, ...next].join("\n") + "\n";
}
