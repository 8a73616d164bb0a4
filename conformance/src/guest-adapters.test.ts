/**
 * Guest adapters in the matrix: each is a guest set of its own, run by default; cells it
 * declines are UNSUPPORTED with its reason; a stub's cells are ERROR naming the member to
 * write next; a real boot (our x86_64 hello guest) is judged by the adapter's milestones,
 * or by a clean power-off without them.
 */
import "reflect-metadata";
import { describe, expect, it } from "vitest";
import { container } from "tsyringe";
import { X86_64PvPlugin } from "@hvkit/arch-x86_64";
import {
  GuestImageUnavailableError,
  createStubArchPlugin,
  createStubGuestAdapter,
  type ArchPlugin,
  type GuestAdapter,
  type GuestAdapterIdentity,
} from "@hvkit/core";
import { toyArchIdentity } from "@hvkit/core/testing";
import { ADAPTER_BOOT_TEST, GuestSetNameError } from "./guest-adapters.js";
import { guestFilesIn } from "./guest-images.js";
import { formatTable } from "./reports/table.js";
import { runSuite } from "./runner.js";
import { CONFORMANCE_TESTS } from "./tests/index.js";

const x86_64 = new X86_64PvPlugin();
const toy = createStubArchPlugin(toyArchIdentity("toy"));
const identity: GuestAdapterIdentity = {
  name: "toyos",
  arches: ["x86_64"],
  roles: ["dom0", "domU"],
  modes: ["pv"],
  imageFormat: "elf",
};
const guests = guestFilesIn();
const image = (name: string) => () => guests.image("x86_64", name);

/** An adapter that boots our x86_64 guest `name` in `roles`, with `more` members. */
function booting(
  name: string,
  more: Partial<GuestAdapter> = {},
  roles = identity.roles,
): GuestAdapter {
  return {
    ...createStubGuestAdapter({ ...identity, roles }),
    buildImage: image(name),
    commandLine: undefined,
    milestones: undefined,
    ...more,
  };
}

/** Runs the adapter's guest set only, on x86_64 (and the toy arch when asked). */
async function run(adapter: GuestAdapter, arches: readonly ArchPlugin[] = [x86_64]) {
  const report = await runSuite({
    arches,
    tests: CONFORMANCE_TESTS,
    adapters: [adapter],
    container,
    selection: { guests: [adapter.name] },
  });
  return report;
}

const cells = (report: Awaited<ReturnType<typeof run>>) =>
  report.entries.map((e) => [`${e.arch}/${e.role}`, e.result, e.message]);

describe("guest adapters in the matrix", () => {
  it("add their own guest set to the default run, one boot test per cell", async () => {
    const report = await runSuite({
      arches: [toy],
      tests: [],
      adapters: [createStubGuestAdapter(identity)],
      container,
    });
    expect(report.entries.map((e) => e.id)).toEqual([
      `toy/pv/toyos/dom0/${ADAPTER_BOOT_TEST.area}/${ADAPTER_BOOT_TEST.name}`,
      "toy/pv/toyos/domU/guest/boot",
    ]);
  });

  it("list the cells an adapter declines as UNSUPPORTED with its reason", async () => {
    const report = await run(createStubGuestAdapter({ ...identity, roles: ["domU"] }), [toy]);
    expect(cells(report)).toEqual([
      ["toy/dom0", "UNSUPPORTED", "toyos is not ported to toy (it runs on x86_64)"],
      ["toy/domU", "UNSUPPORTED", "toyos is not ported to toy (it runs on x86_64)"],
    ]);
    const x86 = await run(createStubGuestAdapter({ ...identity, roles: ["domU"] }));
    expect(cells(x86)[0]).toEqual([
      "x86_64/dom0",
      "UNSUPPORTED",
      "toyos cannot be dom0 (it plays domU)",
    ]);
  });

  it("make a stub adapter's supported cells ERROR naming the member to write next", async () => {
    const report = await run(createStubGuestAdapter(identity));
    expect(cells(report)).toEqual([
      ["x86_64/dom0", "ERROR", "missing guest adapter hook buildImage (toyos)"],
      ["x86_64/domU", "ERROR", "missing guest adapter hook buildImage (toyos)"],
    ]);
    expect(report.entries[0].blockedBy).toEqual({
      arch: "x86_64",
      hook: "buildImage",
      guest: "toyos",
    });
    expect(report.summary.missingHooks).toEqual([
      { arch: "x86_64", hook: "buildImage", guest: "toyos", cells: 2 },
    ]);
    expect(formatTable(report)).toMatch(/^ {2}x86_64: toyos adapter's buildImage \(2 cells\)$/m);
    const next = await run({ ...createStubGuestAdapter(identity), buildImage: image("hello") });
    expect(next.entries[0].message).toBe("missing guest adapter hook commandLine (toyos)");
  });

  it("judge a boot by the milestones in order: a dom0 greets, a domU's console_io is refused", async () => {
    const adapter = booting("hello", {
      commandLine: () => "console=hvc0",
      milestones: () => [
        { name: "greeting", console: /Hello from/ },
        { name: "arch", console: /x86_64/ },
      ],
    });
    const report = await run(adapter);
    expect(report.entries[0]).toMatchObject({ result: "SUCCESS" });
    expect(report.entries[0].message).toMatch(
      /^reached "greeting", "arch"; the run ended all-shutdown \(Poweroff\)/,
    );
    expect(report.entries[1].result).toBe("FAILURE");
    expect(report.entries[1].message).toMatch(
      /^milestone "greeting" \(\/Hello from\/\) not reached after the start; the run ended all-shutdown \(Poweroff\)/,
    );
  });

  it("finds milestones only in order", async () => {
    const adapter = booting(
      "hello",
      {
        milestones: () => [
          { name: "arch", console: /x86_64/ },
          { name: "greeting", console: /Hello/ },
        ],
      },
      ["dom0"],
    );
    const report = await run(adapter);
    expect(report.entries[0].result).toBe("FAILURE");
    expect(report.entries[0].message).toMatch(
      /^milestone "greeting" \(\/Hello\/\) not reached after "arch"/,
    );
  });

  it("without milestones, passes a clean power-off and fails a crash", async () => {
    const ok = await run(booting("hello", {}, ["dom0"]));
    expect(cells(ok)).toEqual([
      ["x86_64/dom0", "SUCCESS", expect.stringMatching(/^powered off after \d+ instructions$/)],
      ["x86_64/domU", "UNSUPPORTED", "toyos cannot be domU (it plays dom0)"],
    ]);
    const crash = await run(booting("exit-crash", {}, ["dom0"]));
    expect(crash.entries[0].result).toBe("FAILURE");
    expect(crash.entries[0].message).toMatch(/^the domain crashed/);
  });

  it("treat an empty milestone list as the adapter's error", async () => {
    const report = await run(booting("hello", { milestones: () => [] }, ["dom0"]));
    expect(cells(report)).toEqual([
      [
        "x86_64/dom0",
        "ERROR",
        "HvkitError: guest adapter toyos names no milestones for this cell: nothing to judge its boot by",
      ],
      ["x86_64/domU", "UNSUPPORTED", "toyos cannot be domU (it plays dom0)"],
    ]);
  });

  it("boot an image obtained asynchronously with its options, and SKIP one that cannot be had", async () => {
    const obtained = booting(
      "hello",
      {
        buildImage: async () => ({ kernel: guests.image("x86_64", "hello"), maxInstructions: 3 }),
        milestones: () => [{ name: "greeting", console: /Hello from/ }],
      },
      ["dom0"],
    );
    const report = await run(obtained);
    expect(report.entries[0].result).toBe("FAILURE");
    expect(report.entries[0].message).toMatch(
      /^milestone "greeting" .* the run ended budget-exhausted after [1-3] instructions/,
    );
    const unavailable = booting(
      "hello",
      {
        buildImage: () => Promise.reject(new GuestImageUnavailableError("toyos", "no apt here")),
      },
      ["dom0"],
    );
    expect(cells(await run(unavailable))[0]).toEqual(["x86_64/dom0", "SKIP", "no apt here"]);
  });

  it("leave an on-demand adapter out of the default run, and run it when named", async () => {
    const adapters = [
      createStubGuestAdapter(identity),
      { ...createStubGuestAdapter({ ...identity, name: "bigos", onDemand: true }) },
    ];
    const all = await runSuite({ arches: [toy], tests: [], adapters, container });
    expect(new Set(all.entries.map((e) => e.guest))).toEqual(new Set(["toyos"]));
    const named = await runSuite({
      arches: [toy],
      tests: [],
      adapters,
      container,
      selection: { guests: ["bigos"] },
    });
    expect(named.entries.map((e) => e.id)).toEqual([
      "toy/pv/bigos/dom0/guest/boot",
      "toy/pv/bigos/domU/guest/boot",
    ]);
  });

  it("refuse an adapter named like a built-in guest set", async () => {
    await expect(run({ ...createStubGuestAdapter(identity), name: "xtf" })).rejects.toThrow(
      GuestSetNameError,
    );
  });

  it("stay out of a run that selects other guest sets", async () => {
    const report = await runSuite({
      arches: [toy],
      tests: CONFORMANCE_TESTS,
      adapters: [createStubGuestAdapter(identity)],
      container,
      selection: { guests: ["hvkit-test"], roles: ["dom0"] },
    });
    expect(report.entries.some((e) => e.guest === "toyos")).toBe(false);
    expect(report.entries.length).toBeGreaterThan(0);
  });
});
