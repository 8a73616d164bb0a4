/**
 * The files of a new guest-OS adapter package, as `hvkit new-guest` writes them:
 * package.json with the plugin manifest, tsconfig.json, tsup.config.ts, typedoc.json,
 * `src/index.ts` with the adapter (its declarations, every other member a loud stub), a
 * test, and a README.md checklist.
 *
 * @module
 */
import { GUEST_ADAPTER_HOOK_NAMES, type GuestAdapter } from "@hvkit/core";
import {
  buildConfigFiles,
  docComment,
  fitList,
  wrapWords,
  packageJson,
  packageName,
  type PortNames,
  type ScaffoldFile,
  type ScaffoldHome,
} from "./package-scaffold.js";

/** What a porter declares up front (`hvkit new-guest` options). */
export type GuestSpec = Pick<GuestAdapter, "arches" | "roles" | "modes" | "imageFormat">;

/** What each stubbed member is for, in the order a cell needs them. */
const MEMBER_PURPOSE: Readonly<Record<(typeof GUEST_ADAPTER_HOOK_NAMES)[number], string>> = {
  buildImage:
    "the boot image of a supported cell: real machine code for the arch, with the notes its " +
    "loader needs; deterministic",
  commandLine: "the kernel command line of a cell (or `undefined`: empty)",
  milestones:
    "what the console shows as the boot gets there, in order (or `undefined`: the boot passes " +
    "when the domain powers off)",
};

function prose(s: GuestSpec): string {
  return (
    `runs on ${s.arches.join(", ") || "no arch yet"}, in mode ${s.modes.join(", ")}, as ` +
    `${s.roles.join(" or ")}; ${s.imageFormat === "elf" ? "ELF" : "Mach-O"} images`
  );
}

function indexTs(n: PortNames, s: GuestSpec, pkg: string): string {
  const str = (xs: readonly string[]): string[] => xs.map((x) => JSON.stringify(x));
  return `/**
 * \`${pkg}\`: the ${n.name} guest-OS port for hvkit, as \`hvkit new-guest\` wrote it. Its
 * declarations are the port's; every other member fails loudly with its name until written
 * (README.md lists the steps).
 *
 * @packageDocumentation
 */
import { createStubGuestAdapter, type GuestAdapter } from "@hvkit/core";

${docComment(`The ${n.name} guest adapter: ${prose(s)}.`)}
export const ${n.camel}Adapter: GuestAdapter = {
  ...createStubGuestAdapter({
    name: ${JSON.stringify(n.name)},
    ${fitList(4, "arches: [", str(s.arches), "],")}
    ${fitList(4, "roles: [", str(s.roles), "],")}
    ${fitList(4, "modes: [", str(s.modes), "],")}
    imageFormat: ${JSON.stringify(s.imageFormat)},
  }),
  // Written members replace their stubs here, one by one (README.md, "Members").
};
`;
}

function adapterTestTs(n: PortNames, s: GuestSpec): string {
  const cell = [
    `arch: ${JSON.stringify(s.arches[0] ?? "no-arch-yet")}`,
    `mode: ${JSON.stringify(s.modes[0])}`,
    `role: ${JSON.stringify(s.roles[0])}`,
  ];
  const ported = s.arches.length > 0;
  return `/**
 * The ${n.name} adapter: it supports the cells it declares and declines the others, and every
 * member not written yet fails loudly, naming itself. List a member in PORTED when you write
 * it (and test it).
 */
import { describe, expect, it } from "vitest";
import {
  GUEST_ADAPTER_HOOK_NAMES,
  GuestAdapterHookMissingError,
  type GuestAdapterHookName,
  type GuestCell,
} from "@hvkit/core";
import { ${n.camel}Adapter as adapter } from "./index.js";

/** The members written so far; every other one must still fail loudly. */
const PORTED: readonly GuestAdapterHookName[] = [];

/** A cell the adapter ${ported ? "declares" : "would declare once ported to an arch"}. */
${fitList(0, "const CELL: GuestCell = {", cell, "};", true)}

describe("the ${n.name} adapter", () => {
  it("${ported ? "supports the cells it declares and declines the others" : "declines every cell while it is ported to no arch"}", () => {
    expect(adapter.declines(CELL)).${ported ? "toBeNull()" : "not.toBeNull()"};
    expect(adapter.declines({ ...CELL, arch: "no-such-arch" })).not.toBeNull();
  });

  it.each(GUEST_ADAPTER_HOOK_NAMES.filter((hook) => !PORTED.includes(hook)))(
    "fails loudly in %s until it is written",
    (hook) => {
      const call = () => (adapter[hook] as (cell: GuestCell) => unknown)(CELL);
      expect(call).toThrow(GuestAdapterHookMissingError);
      expect(call).toThrow(\`guest adapter \${adapter.name}: hook \${hook} is not implemented yet\`);
    },
  );
});
`;
}

function readme(n: PortNames, s: GuestSpec, pkg: string, home: ScaffoldHome): string {
  const run = home.workspace
    ? `npm run hvkit -- conformance --guest ${n.name}`
    : `hvkit conformance --plugin ./${n.folder} --guest ${n.name}`;
  return `# ${pkg}

${wrapWords(`The ${n.name} guest-OS port for hvkit, as \`hvkit new-guest\` wrote it: ${prose(s)}. The adapter declines the cells outside its declarations and fails loudly, naming the member, in the others, so`).join("\n")}

\`\`\`sh
${run}
\`\`\`

shows each declined cell as UNSUPPORTED with the reason and each declared one as ERROR naming
the member it needs first. Work down this list; the porting guide (\`docs/porting-a-guest.md\`
in the hvkit repository) explains each step.

## Declarations (src/index.ts)

- [ ] \`arches\`, \`modes\`, \`roles\`: the real port's list, not what would be nice; only a
      dom0-capable port lists \`dom0\`.
- [ ] \`declines\`: the stub's answers from the declarations; refine it where a declared cell
      still cannot run (a feature the arch lacks), with the reason.

## Members (src/index.ts)

Replace the stubs one by one, in the order a cell needs them (each member's contract is in
\`GuestAdapter\`), and list each in \`PORTED\` in \`src/adapter.test.ts\`.

${GUEST_ADAPTER_HOOK_NAMES.map((m, i) => `${i + 1}. [ ] \`${m}\`: ${MEMBER_PURPOSE[m]}`).join("\n")}

## A green column

${
  home.workspace
    ? `- [ ] The baseline: while the port is unfinished its cells are expected ERRORs
      (\`conformance/baseline.json\`, \`"*/*/${n.name}/*/guest/boot"\`); remove the entry when the
      run reports it fixed.
- [ ] \`${run}\` passes with no baseline entry.`
    : `- [ ] Meanwhile keep the expected failures in a baseline file of your own
      (\`hvkit conformance --baseline <file>\`, entries such as \`"*/*/${n.name}/*/guest/boot"\`).
- [ ] \`${run} --no-baseline\` passes.`
}
`;
}

/** Every file of the new guest adapter package `n` for `spec`, in `home`. */
export function guestPackageFiles(
  n: PortNames,
  spec: GuestSpec,
  home: ScaffoldHome,
): ScaffoldFile[] {
  const pkg = packageName(n.folder, home);
  return [
    packageJson(
      {
        folder: n.folder,
        description: `${n.name} guest-OS port for hvkit: every member fails loudly until written`,
        files: [],
        manifest: { plugin: "guest", provides: [`${n.camel}Adapter`] },
      },
      home,
    ),
    ...buildConfigFiles(home),
    { path: "README.md", text: readme(n, spec, pkg, home) },
    { path: "src/index.ts", text: indexTs(n, spec, pkg) },
    { path: "src/adapter.test.ts", text: adapterTestTs(n, spec) },
  ];
}
