import { describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "reflect-metadata";
import { container } from "tsyringe";
import { ShutdownCause, ShutdownReason, createStubArchPlugin } from "@hvkit/core";
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
    writeFileSync(
      join(dir, p),
      p.endsWith(".cfg") ? 'name="test-pv64-example"\nkernel="k"\n' : "x",
    );
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
      domid: 1,
      shutdownReason: ShutdownReason.Poweroff,
      shutdownCode: null,
      shutdownCause: ShutdownCause.Request,
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

  /** An xl config as XTF's build writes one (name, vcpus, type, memory, kernel, extras). */
  const xtfCfg = (name: string, extra: string) =>
    `name="${name}"\n\nvcpus=1 \n\ntype="pv"\nloader="generic" # Legacy for before Xen 4.10\n\n` +
    `memory=128\nkernel="/usr/libexec/xtf/tests/x/${name}"\n\n# Test Variation Configuration:\n${extra}\n`;

  it("runs a test with variations once per variation, each as its xl config says", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
    mkdirSync(join(dir, "pv-iopl"));
    writeFileSync(join(dir, "pv-iopl/test-pv64-pv-iopl"), "x");
    writeFileSync(
      join(dir, "pv-iopl/test-pv64-pv-iopl~hypercall.cfg"),
      xtfCfg("test-pv64-pv-iopl~hypercall", 'cmdline="hypercall"'),
    );
    writeFileSync(
      join(dir, "pv-iopl/test-pv64-pv-iopl~vmassist.cfg"),
      xtfCfg(
        "test-pv64-pv-iopl~vmassist",
        'cmdline="vmassist"\nvcpus=2\nmaxmem=256\non_crash="preserve"\nmax_event_channels=4096',
      ),
    );
    const images = findXtfImages(dir);
    expect(images.map((i) => [i.name, i.config?.cmdline])).toEqual([
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
          const { maxInstructions: _, ...rest } = opts ?? {};
          seen.push([test.name, rest]);
          return boot(image, opts);
        },
      });
    }
    const actions = {
      poweroff: "destroy",
      reboot: "restart",
      watchdog: "destroy",
      crash: "destroy",
    };
    expect(seen).toEqual([
      [
        "pv64-pv-iopl~hypercall",
        {
          name: "test-pv64-pv-iopl~hypercall",
          cmdline: "hypercall",
          vcpus: 1,
          onlineVcpus: 1,
          domainMemoryMiB: 128,
          domainMaxMemoryMiB: 128,
          maxEventChannels: 1023,
          onShutdown: actions,
        },
      ],
      [
        "pv64-pv-iopl~vmassist",
        {
          name: "test-pv64-pv-iopl~vmassist",
          cmdline: "vmassist",
          vcpus: 2,
          onlineVcpus: 2,
          domainMemoryMiB: 128,
          domainMaxMemoryMiB: 256,
          maxEventChannels: 4096,
          onShutdown: { ...actions, crash: "preserve" },
        },
      ],
    ]);
  });

  it("makes a test whose xl config xl would refuse an ERROR with xl's messages in its log", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
    writeFileSync(join(dir, "test-pv64-bad"), "x");
    writeFileSync(join(dir, "test-pv64-bad.cfg"), 'name="test-pv64-bad"\nvcpus=-1\n');
    const [image] = findXtfImages(dir);
    const cfg = join(dir, "test-pv64-bad.cfg");
    expect(image.config).toBeNull();
    expect(image.configError).toBe(
      `${cfg}:2: config parsing error near \`-1': lexical error\n${cfg}: warning: the config looks like it contains Python code, which xl no longer runs`,
    );
    const log: string[] = [];
    let booted = false;
    const outcome = await xtfTests([image])[0].run({
      ...fakeCell({}),
      boot: () => {
        booted = true;
        throw new Error("booted");
      },
      log: (line) => void log.push(line),
    });
    expect(outcome).toEqual({ result: "ERROR", message: `xl would refuse ${cfg}` });
    expect(booted).toBe(false);
    expect(log[0]).toBe(`${cfg}:2: config parsing error near \`-1': lexical error`);
  });

  it("reads images and xl configs only through the reader it is given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hvkit-xtf-"));
    writeFileSync(join(dir, "test-pv64-example"), "on disk");
    writeFileSync(join(dir, "test-pv64-example.cfg"), 'cmdline="on disk"\n');
    const reads: string[] = [];
    const read = (path: string, kind: "image" | "xl config") => {
      reads.push(`${kind} ${path.slice(dir.length + 1)}`);
      return new TextEncoder().encode(
        kind === "image" ? "from reader" : xtfCfg("test-pv64-example", 'cmdline="read"\nvcpus=3'),
      );
    };
    const images = findXtfImages(dir, read);
    expect(images.map((i) => i.config?.cmdline)).toEqual(["read"]);
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
    expect(reads).toEqual(["xl config test-pv64-example.cfg", "image test-pv64-example"]);
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
