/**
 * The files of a new arch package, as `hvkit new-arch` writes them: the same set as the
 * arch packages in the repository (package.json with the plugin manifest, tsconfig.json,
 * tsup.config.ts, typedoc.json, `src/index.ts` with the plugin, `src/data-model.ts` and
 * `src/abi.ts` with the data model, `src/agent.ts` with the guest agent's TypeScript half,
 * `agent/` with its assembly, linker script and build script, `scripts/` for the golden
 * layouts, tests, and a README.md checklist). Every hook and every agent member is a loud
 * stub naming itself.
 *
 * @module
 */
import type { ArchPlugin } from "@hvkit/core";
import {
  buildConfigFiles,
  fitList,
  packageJson,
  packageName,
  docComment,
  wrapWords,
  type PortNames,
  type ScaffoldFile,
  type ScaffoldHome,
} from "./package-scaffold.js";

/** What a porter knows up front about the arch (`hvkit new-arch` options). */
export type ArchSpec = Pick<
  ArchPlugin,
  | "elfMachines"
  | "elfClasses"
  | "endianness"
  | "wordBits"
  | "pageSizes"
  | "startInfoMagic"
  | "modes"
>;

/** The protocol constants of the agent's mailbox (docs/guest-agent.md), for agent.S. */
const MAILBOX_OFFSETS: readonly (readonly [string, number, string])[] = [
  ["MB_MAGIC", 0, "0x48564B4147454E54 (HVKAGENT) once set up"],
  ["MB_VERSION", 8, "1"],
  ["MB_VCPU", 16, "this vCPU's id"],
  ["MB_OP", 24, "the request, written by the host"],
  ["MB_ARG0", 32, "args[0..6], written by the host"],
  ["MB_ARG1", 40, ""],
  ["MB_ARG2", 48, ""],
  ["MB_ARG3", 56, ""],
  ["MB_ARG4", 64, ""],
  ["MB_ARG5", 72, ""],
  ["MB_ARG6", 80, ""],
  ["MB_RESULT", 88, "the request's result"],
  ["MB_STATUS", 96, "0 done, 1 trapped, 2 unknown op"],
  ["MB_TRAP_VECTOR", 104, "trap[0]: vector or cause"],
  ["MB_TRAP_CODE", 112, "trap[1]: error code or syndrome"],
  ["MB_TRAP_ADDR", 120, "trap[2]: faulting data address"],
  ["MB_TRAP_PC", 128, "trap[3]: pc of the trapping instruction"],
  ["MB_UPCALLS", 136, "event upcalls this vCPU took"],
  ["MB_VCPU_INFO", 144, "the vcpu_info whose upcall_pending the upcall clears"],
  ["MB_STACK_TOP", 152, "this vCPU's stack top"],
  ["MB_START_INFO", 168, "boot report (vCPU 0): start_info, 0 if none"],
  ["MB_SHARED_INFO", 176, "where shared_info is reachable"],
  ["MB_HCALL_PAGE", 184, "the hypercall page, 0 if none"],
  ["MB_SCRATCH", 192, "free memory for the test, page aligned"],
  ["MB_SCRATCH_LEN", 200, ""],
  ["MB_WINDOW", 208, "pages the test may remap, 0 if none"],
  ["MB_WINDOW_LEN", 216, ""],
  ["MB_AP_ENTRY", 224, "where a secondary vCPU enters"],
  ["MB_COUNT", 232, "mailboxes (vCPUs) served"],
  ["MB_BOOT_ARG", 240, "the boot pointer entry gave (device tree ...)"],
  ["MB_ARCH0", 248, "words only the arch's GuestAgent reads"],
  ["MB_ARCH1", 256, ""],
  ["MB_ARCH2", 264, ""],
  ["MB_ARCH3", 272, ""],
  ["MB_DATA", 512, "the Read/Write buffer, to the end of the 4 KiB block"],
];

/** The members of `GuestAgent` the scaffolded agent stubs (its required ones), in order. */
export const AGENT_MEMBERS = [
  "image",
  "guestHandle",
  "describeTrap",
  "bootInfo",
  "unmappedAddress",
  "secondaryVcpuContext",
  "disarmTraps",
] as const;

/** How the plugin's comment and the README describe the identity. */
function identityProse(n: PortNames, s: ArchSpec): string {
  const classes = s.elfClasses.map((c) => `ELF${c}`).join("/");
  const machines =
    s.elfMachines.length === 0 ? "no e_machine yet" : `e_machine ${s.elfMachines.join(", ")}`;
  const pages = s.pageSizes.map((p) => `${p}-byte`).join(" or ");
  return (
    `${classes} ${s.endianness}-endian, ${machines}, ${s.wordBits}-bit words, ${pages} pages, ` +
    `start_info magic "${s.startInfoMagic}"; modes ${s.modes.join(", ")}`
  );
}

function indexTs(n: PortNames, s: ArchSpec, pkg: string): string {
  const str = (xs: readonly string[]): string[] => xs.map((x) => JSON.stringify(x));
  const machines =
    s.elfMachines.length === 0
      ? `    // TODO: the ELF e_machine of ${n.name} kernels (hvkit new-arch --elf-machine).\n    elfMachines: [],`
      : `    ${fitList(4, "elfMachines: [", s.elfMachines.map(String), "],")}`;
  return `/**
 * \`${pkg}\`: the ${n.name} port of hvkit, as \`hvkit new-arch\` wrote it. Every hook of
 * the plugin fails loudly with its name until ported; README.md lists the steps in the order
 * the conformance cells need them.
 *
 * @packageDocumentation
 */
import { createStubArchPlugin, type ArchPlugin } from "@hvkit/core";
import { ${n.constant}_DATA_MODEL } from "./data-model.js";

export * from "./abi.js";
export * from "./agent.js";
export * from "./data-model.js";

${docComment(`The ${n.name} arch plugin: ${identityProse(n, s)}. TODO: cite where each fact comes from (Xen's arch header, the psABI, the ISA manual).`)}
export const ${n.camel}Plugin: ArchPlugin = {
  ...createStubArchPlugin({
    name: ${JSON.stringify(n.name)},
${machines}
    ${fitList(4, "elfClasses: [", s.elfClasses.map(String), "],")}
    endianness: ${JSON.stringify(s.endianness)},
    wordBits: ${s.wordBits},
    ${fitList(4, "pageSizes: [", s.pageSizes.map(String), "],")}
    dataModel: ${n.constant}_DATA_MODEL,
    // Xen's libelf insists on Xen notes for x86 only (its PV entry conventions come from them).
    requiresXenNotes: false,
    startInfoMagic: ${JSON.stringify(s.startInfoMagic)},
    ${fitList(4, "modes: [", str(s.modes), "],")}
    // What the arch offers that not every arch has (ArchPlugin.features): none yet.
    features: [],
  }),
  // Ported hooks replace their stubs here, one by one (README.md, "Hooks").
};
`;
}

function abiTs(n: PortNames): string {
  const part = (constName: string, cName: string, what: string, fields: string): string =>
    `${docComment(`\`struct ${cName}\` of ${n.name}: ${what}`)}
export const ${constName} = defineStruct(
  ${JSON.stringify(cName)},
  ${JSON.stringify(`${what.replace(/ TODO:.*$/, "")}`)},
  {${fields}},
);
`;
  return `/**
 * ${n.name}'s own public ABI structs (Xen's \`xen/include/public/arch-${n.name}.h\`, or the
 * header of the port this one follows): the arch parts of the common structs, which the data
 * model (\`data-model.ts\`) names, and later the arch's \`cpu_user_regs\` and
 * \`vcpu_guest_context\`. As \`hvkit new-arch\` wrote them they are empty; each field gets a
 * doc string saying what it is, from the header.
 *
 * @module
 */
import { defineStruct } from "@hvkit/core";

${part(`ARCH_VCPU_INFO_${n.constant}`, "arch_vcpu_info", "per-vCPU arch state in vcpu_info. TODO: its fields (empty on IA-64 and PowerPC; x86 keeps CR2 there).", "")}
${part(`ARCH_SHARED_INFO_${n.constant}`, "arch_shared_info", "the arch tail of shared_info. TODO: its fields (x86: the p2m description; PowerPC: the boot timebase).", "")}
${part(`XEN_ARCH_DOMAINCONFIG_${n.constant}`, "xen_arch_domainconfig", "the arch part of a domain's configuration (domctl). TODO: its fields, if the arch has any.", "")}`;
}

function dataModelTs(n: PortNames, s: ArchSpec): string {
  const lp64 = s.wordBits === 64;
  const parts = [
    `ARCH_SHARED_INFO_${n.constant}`,
    `ARCH_VCPU_INFO_${n.constant}`,
    `XEN_ARCH_DOMAINCONFIG_${n.constant}`,
  ];
  const widths = lp64
    ? "  ...LP64_WIDTHS,"
    : `  // ILP32: long, pointers, guest handles, xen_pfn_t and xen_ulong_t are 4 bytes.
  long: 4,
  pointer: 4,
  handle: 4,
  xenPfn: 4,
  xenUlong: 4,
  // 64-bit integers are 8-aligned in most 32-bit psABIs (i386 alone aligns them to 4).
  int64Align: 8,`;
  const core = lp64 ? ["LP64_WIDTHS", "ulong", "type DataModel"] : ["ulong", "type DataModel"];
  const about =
    `The ${n.name} guest ABI as a data model: ${lp64 ? "LP64" : "ILP32"}, ${s.endianness}-endian, ` +
    "as `hvkit new-arch` guessed it from the word size and byte order. TODO: check each " +
    "member against the arch's psABI and Xen's arch header, fill the arch parts (`abi.ts`), " +
    "add the arch's `vcpu_guest_context`, and list the sizes the header publishes.";
  return `${docComment(`${about}\n\n@module`)}
${fitList(0, "import {", core, '} from "@hvkit/core";', true)}
${fitList(0, "import {", parts, '} from "./abi.js";', true)}

${docComment(`${n.name} PV guests (\`${s.startInfoMagic}\`): ${lp64 ? "LP64" : "ILP32"} ${s.endianness}-endian, 32 vcpu_info slots, an address as \`xen_callback_t\`.`)}
export const ${n.constant}_DATA_MODEL: DataModel = {
  name: ${JSON.stringify(n.name)},
  littleEndian: ${s.endianness === "little"},
${widths}
  // XEN_LEGACY_MAX_VCPUS of the arch's header (32 on x86 and PowerPC, 64 on IA-64).
  legacyMaxVcpus: 32,
  wcSecHiInArch: false,
  archParts: {
    archVcpuInfo: ARCH_VCPU_INFO_${n.constant},
    archSharedInfo: ARCH_SHARED_INFO_${n.constant},
    xenCallback: ulong,
    archDomainConfig: XEN_ARCH_DOMAINCONFIG_${n.constant},
  },
  ${fitList(2, "structs: [", [parts[1], parts[0], parts[2]], "],")}
  // Sizes the arch's header publishes (start_info, vcpu_info ...); the suite checks each.
  publishedSizes: [],
};
`;
}

function agentTs(n: PortNames): string {
  return `/**
 * The ${n.name} half of the conformance guest agent (core's \`agent.ts\`; the protocol is
 * docs/guest-agent.md in the hvkit repository): the boot image \`agent/agent.elf\`, built from
 * \`agent/agent.S\` by \`agent/build.sh\`, and what only this arch knows. As
 * \`hvkit new-arch\` wrote it, every member fails loudly naming itself
 * (\`guestAgent.<member>\`), so the conformance matrix shows the one to write next. The
 * plugin's \`guestAgent\` hook returns it once it is wired in.
 *
 * @module
 */
import {
  ArchHookMissingError,
  type AgentIo,
  type AgentTrapRecord,
  type GuestAgent,
  type GuestBootInfo,
  type GuestTrap,
} from "@hvkit/core";

/** The loud stub of agent member \`member\`. */
function missing(member: string): never {
  throw new ArchHookMissingError(${JSON.stringify(n.name)}, \`guestAgent.\${member}\`);
}

/** The ${n.name} guest agent. */
export class ${n.pascal}GuestAgent implements GuestAgent {
  /**
   * The agent's boot image. Once agent/build.sh has built it, read \`../agent/agent.elf\`
   * (relative to this module) with \`readPackageFile\`, whose hint says how to build it, as
   * arch-ppc's agent does; the package's "files" ship the agent folder.
   */
  get image(): Uint8Array {
    return missing("image");
  }

  /**
   * The hypercall-argument value of a buffer at \`va\`: the address itself (x86), or an
   * inline xencomm handle, guest-physical address | 1 << 63 (IA-64, PowerPC).
   */
  guestHandle(_io: AgentIo, _va: bigint): bigint {
    return missing("guestHandle");
  }

  /** The trap words the agent's handler wrote, in arch-neutral terms. */
  describeTrap(_trap: AgentTrapRecord): GuestTrap {
    return missing("describeTrap");
  }

  /**
   * The domain's boot information as the guest reads it: \`bootInfoFromStartInfo(io,
   * io.boot.startInfo)\` where the builder writes a start_info page.
   */
  bootInfo(_io: AgentIo): GuestBootInfo {
    return missing("bootInfo");
  }

  /** A guest address the domain cannot reach, for −EFAULT tests. */
  unmappedAddress(_io: AgentIo): bigint {
    return missing("unmappedAddress");
  }

  /** The \`vcpu_guest_context\` that starts vCPU \`vcpuId\` at the agent's \`ap_entry\`. */
  secondaryVcpuContext(_io: AgentIo, _vcpuId: number): Uint8Array {
    return missing("secondaryVcpuContext");
  }

  /** Removes the agent's trap handlers, so that the next trap has none. */
  disarmTraps(_io: AgentIo): void {
    missing("disarmTraps");
  }
}
`;
}

function pluginTestTs(n: PortNames, s: ArchSpec): string {
  const str = (xs: readonly string[]): string[] => xs.map((x) => JSON.stringify(x));
  return `/**
 * The ${n.name} plugin: the identity its port declares, a data model that agrees with it, and
 * a loud stub, naming itself, for every hook not ported yet. List a hook in PORTED when you
 * write it (and test it).
 */
import { describe, expect, it } from "vitest";
import { ARCH_HOOK_NAMES, ArchHookMissingError, type ArchHookName } from "@hvkit/core";
${fitList(0, "import {", [`${n.constant}_DATA_MODEL`, `${n.camel}Plugin as plugin`], '} from "./index.js";', true)}

/** The hooks this port implements; every other one must still fail loudly. */
const PORTED: readonly ArchHookName[] = [];

describe("the ${n.name} plugin", () => {
  it("has the identity its port declares", () => {
    expect(plugin).toMatchObject({
      name: ${JSON.stringify(n.name)},
      ${fitList(6, "elfMachines: [", s.elfMachines.map(String), "],")}
      ${fitList(6, "elfClasses: [", s.elfClasses.map(String), "],")}
      endianness: ${JSON.stringify(s.endianness)},
      wordBits: ${s.wordBits},
      ${fitList(6, "pageSizes: [", s.pageSizes.map(String), "],")}
      startInfoMagic: ${JSON.stringify(s.startInfoMagic)},
      ${fitList(6, "modes: [", str(s.modes), "],")}
    });
    expect(plugin.dataModel).toBe(${n.constant}_DATA_MODEL);
  });

  it("lays structs out in its own byte order and word size", () => {
    expect(plugin.dataModel.littleEndian).toBe(plugin.endianness === "little");
    expect(plugin.dataModel.long * 8).toBe(plugin.wordBits);
    expect(plugin.dataModel.pointer * 8).toBe(plugin.wordBits);
  });

  it.each(ARCH_HOOK_NAMES.filter((hook) => !PORTED.includes(hook)))(
    "fails loudly in hook %s until it is ported",
    (hook) => {
      const call = () => (plugin[hook] as (...args: unknown[]) => unknown)();
      expect(call).toThrow(ArchHookMissingError);
      expect(call).toThrow(\`arch \${plugin.name}: hook \${hook} is not implemented yet\`);
    },
  );
});
`;
}

function agentTestTs(n: PortNames): string {
  return `/**
 * The ${n.name} guest agent: every member not written yet fails loudly, naming itself. List a
 * member in PORTED when you write it, and test it here (arch-ppc's agent tests check the
 * committed image and the TypeScript half without running the agent).
 */
import { describe, expect, it } from "vitest";
import { ArchHookMissingError } from "@hvkit/core";
import { ${n.pascal}GuestAgent } from "./agent.js";

type Member = keyof ${n.pascal}GuestAgent;

/** The members written so far; every other one must still fail loudly. */
const PORTED: readonly Member[] = [];

const MEMBERS: readonly Member[] = [
${AGENT_MEMBERS.map((m) => `  ${JSON.stringify(m)},`).join("\n")}
];

describe("the ${n.name} guest agent", () => {
  it.each(MEMBERS.filter((member) => !PORTED.includes(member)))(
    "fails loudly in %s until it is written",
    (member) => {
      const agent = new ${n.pascal}GuestAgent();
      const use = (): unknown => {
        const value: unknown = agent[member];
        return typeof value === "function" ? (value as () => unknown).call(agent) : value;
      };
      expect(use).toThrow(ArchHookMissingError);
      expect(use).toThrow(\`: hook guestAgent.\${member} is not implemented yet\`);
    },
  );
});
`;
}

// The URL of the generated test's golden file is spelled in pieces here: written out whole,
// the built command would seem to load that file itself (pack-install looks for such URLs).
function layoutsTestTs(n: PortNames): string {
  return `/**
 * The ${n.name} data model against gcc: golden data from core/scripts/gen-struct-golden.sh
 * (\`bash core/scripts/gen-struct-golden.sh ${n.folder}\`, with scripts/golden-models naming
 * the cross compiler and scripts/struct-oracle-arch.h declaring the arch's parts in C). Until
 * src/golden/layouts.json exists this is a to-do.
 */
import { existsSync } from "node:fs";
import { it } from "vitest";
import { describeGoldenLayouts, readGoldenLayouts } from "@hvkit/core/testing";
import { ${n.constant}_DATA_MODEL } from "./data-model.js";

const GOLDEN = new URL(${JSON.stringify("./golden/layouts.json")}, import.meta.url);

if (existsSync(GOLDEN)) {
  describeGoldenLayouts(readGoldenLayouts(GOLDEN), [${n.constant}_DATA_MODEL]);
} else {
  it.todo("layouts match gcc: generate src/golden/layouts.json");
}
`;
}

function agentS(n: PortNames): string {
  const sets = MAILBOX_OFFSETS.map(([name, off, what]) => {
    const line = `        .set ${`${name},`.padEnd(16)}${off}`;
    return what === "" ? line : `${line.padEnd(40)}/* ${what} */`;
  }).join("\n");
  return `/*
 * hvkit's conformance guest agent for ${n.name} PV guests (the protocol is docs/guest-agent.md
 * in the hvkit repository; arch-x86_64/agent/agent.S is the reference agent): boots as a
 * ${n.name} kernel, registers its trap handlers and event callback the arch's way, makes
 * shared_info reachable, then serves the host's requests from its per-vCPU mailbox, handing
 * control back with the kernel service call.
 *
 * Written by \`hvkit new-arch\` as a template: the protocol constants are complete, and each
 * TODO is where ${n.name}'s instructions go. Built by build.sh with GNU as and ld for the arch;
 * agent.elf is committed with this file and the script.
 *
 * TODO: the Xen facts the agent relies on, each with its source (the arch's Xen header,
 * its domain builder, the ISA manual):
 *   - the entry state: where start_info (or the device tree) is, the stack, privilege,
 *     translation;
 *   - the hypercall instruction, the registers of the number, arguments and result;
 *   - how a guest pointer is passed (a virtual address, or an inline xencomm handle);
 *   - how traps and the event upcall are delivered and how the guest returns.
 */

/* The mailbox: one 4 KiB block per vCPU; every field a u64 in the arch's byte order. */
${sets}

        .set OP_HYPERCALL,    1                 /* args[0] = number, args[1..6] = arguments */
        .set OP_READ,         2                 /* copy args[1] bytes at args[0] into data */
        .set OP_WRITE,        3                 /* copy args[1] bytes of data to args[0] */
        .set OP_TIMESTAMP,    4                 /* result = the arch's time counter */
        .set OP_ILLEGAL,      5                 /* execute the arch's illegal instruction */
        .set OP_HCALL_DIRECT, 6                 /* as OP_HYPERCALL, the bare instruction */

        .set STATUS_DONE,     0
        .set STATUS_TRAPPED,  1
        .set STATUS_BAD,      2

        .set AGENT_VERSION,   1
        .set SERVICE_CALL,    63                /* the kernel service call's number */
        .set NR_VCPUS,        8                 /* mailboxes and stacks */
        .set STACK_BYTES,     0x4000
        .set SCRATCH_BYTES,   0x10000

        .text
        .globl _start
_start:
        /*
         * TODO 1, boot (vCPU 0): take stack 0 and mailbox 0; register the trap handlers and
         * the event callback the arch's way; make shared_info reachable; write magic,
         * version, vcpu, stack_top, vcpu_info and the boot report (start_info, shared_info,
         * hypercall_page, scratch, window, ap_entry, mailbox count, boot_arg, arch words);
         * status = STATUS_DONE; then join the request loop.
         */

        .globl ap_entry
ap_entry:
        /*
         * TODO 5, a secondary vCPU: entered from the vcpu_guest_context that
         * GuestAgent.secondaryVcpuContext builds, with the vCPU id in a register of the
         * arch's choosing; take that vCPU's stack and mailbox, write its fixed words, join
         * the request loop.
         */

serve:
        /*
         * TODO 2, the request loop: make the kernel service call (the hypercall instruction,
         * number SERVICE_CALL, first argument this vCPU's mailbox); when it returns, read
         * MB_OP and the arguments, carry the request out, write MB_RESULT and MB_STATUS
         * (STATUS_BAD for an unknown op), and make the call again. Read and Write use the
         * widest naturally aligned access the address and length allow (8, 4, else 1 byte).
         */

trap_entry:
        /*
         * TODO 3, any synchronous trap: write the trap words (vector, code, address, pc),
         * MB_STATUS = STATUS_TRAPPED, reset the stack to MB_STACK_TOP and make the service
         * call; never return to the trapping code.
         */

upcall_entry:
        /*
         * TODO 4, the event upcall: add 1 to MB_UPCALLS, write 0 to the byte at
         * MB_VCPU_INFO (evtchn_upcall_pending) when it is not 0, and return to the
         * interrupted code the arch's way, events enabled again.
         */

        .bss
        .balign 4096
        .globl mailboxes
mailboxes:
        .skip 4096 * NR_VCPUS
        .balign 4096
stacks:
        .skip STACK_BYTES * NR_VCPUS
        .balign 4096
scratch:
        .skip SCRATCH_BYTES
`;
}

function linkLd(n: PortNames): string {
  return `/*
 * hvkit's ${n.name} agent. TODO: the load address (1 MiB here) and the output format and
 * architecture of ${n.name}'s ld (OUTPUT_FORMAT, OUTPUT_ARCH); keep one loadable segment and
 * the Xen notes, if the agent has any, in a PT_NOTE segment.
 */
ENTRY(_start)
PHDRS
{
  text PT_LOAD FLAGS(7);
  note PT_NOTE;
}
SECTIONS
{
  . = 0x100000;
  .text : { *(.text .text.*) } :text
  .rodata : { *(.rodata .rodata.*) } :text
  .note.Xen : { *(.note.Xen) } :text :note
  .data : { *(.data .data.*) } :text
  .bss : { *(.bss .bss.*) *(COMMON) } :text
  . = ALIGN(4096);
  _end = .;
  /DISCARD/ : { *(.note.gnu.*) *(.comment) *(.eh_frame) }
}
`;
}

function buildSh(n: PortNames): string {
  return `#!/bin/sh
# Builds the ${n.name} conformance guest agent (agent.elf, committed so that tests need no
# toolchain) from agent.S with Debian's cross binutils for ${n.name}. The result must be
# bit-identical on every run: no build id, no dates.
# TODO: the binutils package and triplet (\`apt-get install binutils-<triplet>\`), and the
# assembler's flags for the ISA level the agent uses.
# Usage: ${n.folder}/agent/build.sh   (from anywhere)
set -eu
cd "$(dirname "$0")"
AS=\${AS:-${n.name}-linux-gnu-as}
LD=\${LD:-${n.name}-linux-gnu-ld}
OBJCOPY=\${OBJCOPY:-${n.name}-linux-gnu-objcopy}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$AS --fatal-warnings -o "$tmp/agent.o" agent.S
$LD -nostdlib -static -T link.ld --build-id=none -z noexecstack -z max-page-size=4096 \\
  -o "$tmp/agent.elf" "$tmp/agent.o"
# Keep the labels for disassembly, drop the assembler constants (MB_*, OP_* ...).
$OBJCOPY --wildcard --strip-symbol='[A-Z]*' "$tmp/agent.elf" agent.elf
sha256sum agent.elf
`;
}

function goldenModels(n: PortNames): string {
  return `# The data models ${n.folder} checks against gcc (core/scripts/gen-struct-golden.sh):
# <export of src/index.ts> <compiler>[,<alternative>...] <flags...>
# TODO: the cross compiler of ${n.name} (apt-get install gcc-<triplet>) and its flags.
${n.constant}_DATA_MODEL ${n.name}-linux-gnu-gcc
`;
}

function structOracleArchH(n: PortNames, s: ArchSpec): string {
  return `/*
 * struct-oracle-arch.h (${n.name}) -- the ${n.name} parts of hvkit's C oracle of the Xen ABI
 * structs (core/scripts/struct-oracle.c includes it; see core/scripts/gen-struct-golden.sh).
 * Member names match ${n.folder}/src/abi.ts and data-model.ts.
 *
 * Written by \`hvkit new-arch\` to match the data model it wrote (${s.wordBits === 64 ? "LP64" : "ILP32"}, empty arch
 * parts). TODO: write the arch's parts from the field lists of its Xen header, as
 * src/abi.ts declares them, and every other struct the data model lists.
 */
typedef struct { void *p; } o_handle;   /* XEN_GUEST_HANDLE(T) */
typedef unsigned long o_pfn;            /* xen_pfn_t */
typedef unsigned long o_ulong_x;        /* xen_ulong_t */
typedef unsigned long o_callback;       /* xen_callback_t */
#define O_LEGACY_VCPUS 32               /* XEN_LEGACY_MAX_VCPUS */

struct arch_vcpu_info { };
struct arch_shared_info { };
struct xen_arch_domainconfig { };
`;
}

/** The hooks of `ArchPlugin` in the order the conformance cells of x86_64 first need them. */
const HOOK_ORDER: readonly (readonly [string, string])[] = [
  ["guestAgent", "return the agent (`src/agent.ts`), once its image boots"],
  ["hypercalls", "the arch's own hypercalls (an empty list to start)"],
  ["createDomainState", "the per-domain state (`ArchTypes`)"],
  [
    "createVcpu",
    "the CPU: `run`, `pc`, `readHypercall`, `completeHypercall`, `translate`, `describe`",
  ],
  ["onMemoryWritten", "drop what the CPU caches (or set it `undefined`: nothing cached)"],
  [
    "onP2mChanged",
    "drop translations cached from a changed p2m entry (or `undefined`: nothing cached)",
  ],
  ["buildDomain", "the domain builder: memory, start_info or device tree, entry state"],
  ["guestAccessOk", "Xen's `access_ok` (or `undefined`: every address goes to the MMU)"],
  ["memoryOp", "`arch_memory_op` (or `undefined`: −ENOSYS)"],
  ["vcpuOp", "the arch's own `do_vcpu_op` commands (or `undefined`: −ENOSYS)"],
  ["maximumGpfn", "`domain_get_maximum_gpfn` (or `undefined`: the highest populated frame)"],
  ["getWritableFrame", "page types for grant maps (`putWritableFrame` pairs with it)"],
  ["setVcpuContext", "`arch_set_info_guest`: VCPUOP_initialise and domctl setvcpucontext"],
  ["resetVcpu", "`arch_vcpu_reset`: setvcpucontext with a null context"],
  [
    "checkDomainConfig",
    "createdomain's `xen_arch_domainconfig` (or `undefined`: every configuration accepted)",
  ],
  ["getM2p", "the machine-to-physical table guests read (`setM2p` pairs with it)"],
  ["createGrantHostMapping", "grant maps into page tables (`replaceGrantHostMapping` undoes them)"],
  ["disassemble", "for `hvkit run --trace` and crash reports"],
  ["hypervisorVirtStart", "XENVER_platform_parameters (or `undefined`: 0)"],
  ["vmAssistTypes", "vm_assist (or `undefined`: none)"],
  ["xenFeatures", "XENVER_get_features (or `undefined`: 0)"],
  ["releaseDomainFrames", "frames held for a domain outside its memory (or `undefined`: none)"],
];

function readme(n: PortNames, s: ArchSpec, pkg: string, home: ScaffoldHome): string {
  const run = home.workspace
    ? `npm run hvkit -- conformance --arch ${n.name}`
    : `hvkit conformance --plugin ./${n.folder} --arch ${n.name}`;
  const intro = wrapWords(
    `The ${n.name} port of hvkit, as \`hvkit new-arch\` wrote it: ${identityProse(n, s)}. Every ` +
      "hook of the plugin and every member of its guest agent fails loudly with its name, so",
  );
  const golden = home.workspace
    ? `- [ ] Golden layouts: name the cross compiler in \`scripts/golden-models\`, declare the arch's
      parts in C in \`scripts/struct-oracle-arch.h\`, run
      \`bash core/scripts/gen-struct-golden.sh ${n.folder}\`; \`src/layouts.test.ts\` then checks
      every struct against gcc.`
    : `- [ ] Golden layouts are made in a clone of hvkit (\`core/scripts/gen-struct-golden.sh\`, from
      \`scripts/golden-models\` and \`scripts/struct-oracle-arch.h\`):
      \`hvkit new-arch --dir <clone>\` writes this package wired into its workspace.`;
  const green = home.workspace
    ? `- [ ] The baseline: while the port is unfinished its cells are expected ERRORs
      (\`conformance/baseline.json\`, \`"${n.name}/*"\`); narrow the entry as cells pass, and
      remove it when the run reports it fixed.
- [ ] Compiled test guests, where Debian has a cross gcc: \`conformance/guests/${n.name}/\`.
- [ ] \`${run}\` passes with no baseline entry.`
    : `- [ ] Meanwhile keep the expected failures in a baseline file of your own
      (\`hvkit conformance --baseline <file>\`, entries such as \`"${n.name}/*"\`), and narrow it
      as cells pass.
- [ ] \`${run} --no-baseline\` passes.`;
  return `# ${pkg}

${intro.join("\n")}

\`\`\`sh
${run}
\`\`\`

shows every applicable cell as ERROR naming the hook it needs first, and the summary counts the
cells each missing hook blocks. Work down this list; the porting guide
(\`docs/porting-an-arch.md\` in the hvkit repository) explains each step and where Xen's facts
come from.

## Identity (src/index.ts)

- [ ] Check the ELF machine numbers and classes, byte order, word size, page sizes, start_info
      magic and modes against Xen's arch header (\`xen/include/public/arch-${n.name}.h\` or the
      port's own), the psABI and the ISA manual; cite them in the plugin's comment.
- [ ] \`features\`: add what the arch offers as it becomes true (\`hypercall-page\`, \`frames\`,
      \`pv-mmu-radix\`, \`pv-mmu-hashed\`, \`m2p\`, \`trap-table\`, \`privileged-op-emulation\`,
      \`shared-info-max-pfn\`); a test that needs a feature the arch lacks is SKIP.

## Data model (src/data-model.ts, src/abi.ts)

- [ ] Widths, \`legacyMaxVcpus\` (XEN_LEGACY_MAX_VCPUS), \`wcSecHiInArch\`, \`xen_callback_t\`.
- [ ] The arch parts in \`src/abi.ts\`: \`struct arch_vcpu_info\`, \`struct arch_shared_info\`,
      \`struct xen_arch_domainconfig\`, each field with its doc string.
- [ ] \`struct vcpu_guest_context\` (and the register frame it holds) as \`vcpuGuestContext\`.
- [ ] \`publishedSizes\`: the sizes the header states (start_info, vcpu_info ...); until it
      lists one, the \`abi/published-sizes\` cells name \`dataModel.publishedSizes\`.
${golden}

## The guest agent (agent/, src/agent.ts)

- [ ] \`agent/agent.S\`: the TODOs in order (boot, request loop, traps, upcall, secondary
      vCPUs); the protocol is \`docs/guest-agent.md\`.
- [ ] \`agent/build.sh\` and \`agent/link.ld\`: build \`agent/agent.elf\` bit-identically with
      Debian's cross binutils; commit it with its sources.
- [ ] \`src/agent.ts\`: \`image\` reads \`agent/agent.elf\`, then each member; list each in
      \`PORTED\` in \`src/agent.test.ts\` as you write it, and test it.

## Hooks (src/index.ts)

Replace the stubs one by one, in the order the cells need them (each hook's contract is in
\`ArchPlugin\`), and list each in \`PORTED\` in \`src/plugin.test.ts\`. An optional hook whose
fallback fits is set to \`undefined\`.

${HOOK_ORDER.map(([hook, what], i) => `${i + 1}. [ ] \`${hook}\`: ${what}`).join("\n")}

## A green column

${green}
`;
}

/** Every file of the new arch package `n` for `spec`, in `home`. */
export function archPackageFiles(n: PortNames, spec: ArchSpec, home: ScaffoldHome): ScaffoldFile[] {
  const pkg = packageName(n.folder, home);
  return [
    packageJson(
      {
        folder: n.folder,
        description: `${n.name} port of hvkit: every hook fails loudly until ported`,
        files: ["agent"],
        manifest: { plugin: "arch", provides: [`${n.camel}Plugin`] },
      },
      home,
    ),
    ...buildConfigFiles(home),
    { path: "README.md", text: readme(n, spec, pkg, home) },
    { path: "src/index.ts", text: indexTs(n, spec, pkg) },
    { path: "src/abi.ts", text: abiTs(n) },
    { path: "src/data-model.ts", text: dataModelTs(n, spec) },
    { path: "src/agent.ts", text: agentTs(n) },
    { path: "src/plugin.test.ts", text: pluginTestTs(n, spec) },
    { path: "src/agent.test.ts", text: agentTestTs(n) },
    ...(home.workspace ? [{ path: "src/layouts.test.ts", text: layoutsTestTs(n) }] : []),
    { path: "agent/agent.S", text: agentS(n) },
    { path: "agent/link.ld", text: linkLd(n) },
    { path: "agent/build.sh", text: buildSh(n), executable: true },
    { path: "scripts/golden-models", text: goldenModels(n) },
    { path: "scripts/struct-oracle-arch.h", text: structOracleArchH(n, spec) },
  ];
}
