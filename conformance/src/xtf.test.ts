import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "reflect-metadata";
import { container } from "tsyringe";
import { ShutdownReason, createStubArchPlugin } from "@hvkit/core";
import { toyArchIdentity } from "@hvkit/core/testing";
import { findXtfImages, xtfTests, XTF_GUEST_SET } from "./xtf.js";
import { runSuite } from "./runner.js";
import type { CellContext } from "./conformance-test.js";
import type { GuestRun } from "@hvkit/runner";

function tree(): string {
  const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
  for (const p of [
    "tests/example/test-pv64-example",
    "tests/example/test-pv64-example.cfg",
    "tests/example/test-hvm64-example",
    "tests/selftest/test-pv64-selftest",
    "tests/foo/test-weird-foo",
    "test-pv32pae-top",
    "a/b/c/test-pv64-too-deep",
  ]) {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), "x");
  }
  return dir;
}

function fakeCell(run: Partial<GuestRun>): CellContext {
  return {
    cell: { arch: "x86_64", mode: "pv", guest: "xtf", role: "dom0" },
    arch: createStubArchPlugin(toyArchIdentity("x86_64", { elfMachines: [62] })),
    features: new Set(),
    container: undefined as never,
    boot: () => ({
      end: "all-shutdown",
      instructions: 1000,
      console: "",
      hypervisorMessages: [],
      shutdownReason: ShutdownReason.Poweroff,
      shutdownCode: null,
      ...run,
    }),
    bootAgent: () => {
      throw new Error("an XTF cell boots no agent");
    },
    guestImage: () => new Uint8Array(),
    guestExpectedOutput: () => "",
    log: () => undefined,
  };
}

describe("XTF images", () => {
  it("finds test-<env>-<name> files of known environments, two levels deep at most", () => {
    const found = findXtfImages(tree()).map((i) => `${i.env}-${i.name}`);
    expect(found).toEqual(["hvm64-example", "pv32pae-top", "pv64-example", "pv64-selftest"]);
  });

  it("runs each image in the cells of its environment", () => {
    const tests = xtfTests(findXtfImages(tree()));
    const pv64 = tests.find((t) => t.name === "pv64-example")!;
    expect(pv64.requires).toMatchObject({
      arches: ["x86_64"],
      modes: ["pv"],
      guests: ["xtf"],
      roles: ["dom0", "domU"],
    });
    expect(tests.find((t) => t.name === "hvm64-example")!.requires.modes).toEqual(["hvm-vmx"]);
    expect(tests.find((t) => t.name === "pv32pae-top")!.requires.arches).toEqual(["x86"]);
  });

  it("runs a test with variations once per variation, with its config's cmdline and vcpus", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
    mkdirSync(join(dir, "pv-iopl"));
    writeFileSync(join(dir, "pv-iopl/test-pv64-pv-iopl"), "x");
    writeFileSync(
      join(dir, "pv-iopl/test-pv64-pv-iopl~hypercall.cfg"),
      'vcpus=1\ncmdline="hypercall"\n',
    );
    writeFileSync(
      join(dir, "pv-iopl/test-pv64-pv-iopl~vmassist.cfg"),
      'vcpus=2\ncmdline="vmassist"\n',
    );
    const images = findXtfImages(dir);
    expect(images.map((i) => [i.name, i.cmdline])).toEqual([
      ["pv-iopl~hypercall", "hypercall"],
      ["pv-iopl~vmassist", "vmassist"],
    ]);
    const seen: unknown[] = [];
    for (const test of xtfTests(images)) {
      const cell = fakeCell({ console: "Test result: SUCCESS\n" });
      const boot = cell.boot;
      await test.run({
        ...cell,
        boot: (image, opts) => {
          seen.push([test.name, opts?.cmdline, opts?.vcpus]);
          return boot(image, opts);
        },
      });
    }
    expect(seen).toEqual([
      ["pv64-pv-iopl~hypercall", "hypercall", 1],
      ["pv64-pv-iopl~vmassist", "vmassist", 2],
    ]);
  });

  it("reads images and xl configs only through the reader it is given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
    writeFileSync(join(dir, "test-pv64-example"), "on disk");
    writeFileSync(join(dir, "test-pv64-example.cfg"), 'cmdline="on disk"\n');
    const reads: string[] = [];
    const read = (path: string, kind: "image" | "xl config") => {
      reads.push(`${kind} ${path.slice(dir.length + 1)}`);
      return new TextEncoder().encode(
        kind === "image" ? "from reader" : 'cmdline="read"\nvcpus=3\n',
      );
    };
    const images = findXtfImages(dir, read);
    expect(images.map((i) => i.cmdline)).toEqual(["read"]);
    const booted: unknown[] = [];
    const cell = fakeCell({ console: "Test result: SUCCESS\n" });
    await xtfTests(images, read)[0].run({
      ...cell,
      boot: (image, opts) => {
        booted.push(new TextDecoder().decode(image), opts?.vcpus);
        return cell.boot(image, opts);
      },
    });
    expect(booted).toEqual(["from reader", 3]);
    expect(reads).toEqual([
      "xl config test-pv64-example.cfg",
      "image test-pv64-example",
      "xl config test-pv64-example.cfg",
    ]);
  });

  it.each([
    ["--- Xen Test Framework ---\nTest result: SUCCESS\n", {}, "SUCCESS"],
    ["Test result: SKIP\n", {}, "SKIP"],
    ["Test result: ERROR\n", {}, "ERROR"],
    ["Test result: FAILURE\n", { shutdownReason: ShutdownReason.Crash }, "FAILURE"],
    ["Hello\n", { shutdownReason: ShutdownReason.Crash }, "ERROR"],
    ["", { end: "budget-exhausted" as const, shutdownReason: null }, "ERROR"],
  ])("maps console %j to the cell's result", async (console, run, result) => {
    const [test] = xtfTests(
      findXtfImages(tree()).filter((i) => i.name === "example" && i.env === "pv64"),
    );
    const outcome = await test.run(fakeCell({ console, ...run }));
    expect(outcome.result).toBe(result);
  });
});

describe("XTF images no registered arch can run", () => {
  it("appear as UNSUPPORTED cells with the reason, never dropped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
    for (const f of ["test-pv64-foo", "test-pv32pae-bar", "test-hvm64-baz"])
      writeFileSync(join(dir, f), "x");
    const x86_64 = createStubArchPlugin(toyArchIdentity("x86_64", { elfMachines: [62] }));
    const report = await runSuite({
      arches: [x86_64],
      tests: xtfTests(findXtfImages(dir)),
      container,
      selection: { guests: [XTF_GUEST_SET], roles: ["dom0"] },
    });
    expect(report.entries.map((e) => [e.id, e.result, e.message])).toEqual([
      // pv64 runs: on this stub arch it is an ERROR naming the first missing hook.
      ["x86_64/pv/xtf/dom0/xtf/pv64-foo", "ERROR", "missing arch hook hypercalls (x86_64)"],
      [
        "x86_64/hvm-vmx/xtf/dom0/xtf/hvm64-baz",
        "UNSUPPORTED",
        "x86_64 does not implement mode hvm-vmx (it offers pv)",
      ],
      [
        "x86/pv/xtf/dom0/xtf/pv32pae-bar",
        "UNSUPPORTED",
        "needs arch x86 in mode pv, which no registered arch plugin provides (registered: x86_64)",
      ],
    ]);
    expect(report.entries[2].description).toContain("environment pv32pae: 32-bit PAE PV");
    expect(report.nothingRan).toBeUndefined();
  });
});
