import "reflect-metadata";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { container } from "tsyringe";
import { createStubArchPlugin, PackageFileMissingError } from "@hvkit/core";
import { toyArchIdentity } from "@hvkit/core/testing";
import { success, type ConformanceTest } from "./conformance-test.js";
import { COMPILED_GUEST_SET, guestFilesIn, GUESTS_DIR } from "./guest-images.js";
import { runSuite } from "./runner.js";

const scratch = mkdtempSync(join(tmpdir(), "hvkit-guest-images-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("guestFilesIn", () => {
  it("reads a committed guest image and its expected output from the package's folder", () => {
    const files = guestFilesIn();
    expect(files.hasArch("x86_64")).toBe(true);
    expect(files.hasArch("toy")).toBe(false);
    expect(files.has("x86_64", "hello")).toBe(true);
    expect(files.has("x86", "hello")).toBe(true);
    expect(files.has("x86_64", "absent")).toBe(false);
    const elf = files.image("x86_64", "hello");
    expect([...elf.subarray(0, 4)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect(files.expectedOutput("x86_64", "hello").length).toBeGreaterThan(0);
  });

  it("reads <dir>/<arch>/bin/<name>.elf and <dir>/<arch>/expected/<name>.txt as Latin-1", () => {
    mkdirSync(join(scratch, "toy", "bin"), { recursive: true });
    mkdirSync(join(scratch, "toy", "expected"), { recursive: true });
    writeFileSync(join(scratch, "toy", "bin", "g.elf"), Uint8Array.of(1, 2, 3));
    writeFileSync(join(scratch, "toy", "expected", "g.txt"), Uint8Array.of(0x68, 0xe9, 0x0a));
    const files = guestFilesIn(scratch);
    expect([...files.image("toy", "g")]).toEqual([1, 2, 3]);
    expect(files.expectedOutput("toy", "g")).toBe("h\u00e9\n");
  });

  it("raises a typed error naming the file and @hvkit/conformance when a guest is missing", () => {
    const files = guestFilesIn();
    expect(() => files.image("x86_64", "absent")).toThrow(PackageFileMissingError);
    expect(() => files.image("x86_64", "absent")).toThrow(
      expect.objectContaining({
        file: "guests/x86_64/bin/absent.elf",
        packageName: "@hvkit/conformance",
        path: join(GUESTS_DIR, "x86_64", "bin", "absent.elf"),
      }),
    );
    expect(() => files.expectedOutput("x86_64", "absent")).toThrow(
      /^guests\/x86_64\/expected\/absent\.txt of @hvkit\/conformance is missing .*conformance\/guests\/build\.sh$/,
    );
  });
});

describe("a missing guest file in a suite run", () => {
  it("is an ERROR cell that names the file and package, with no stack frame", async () => {
    const needsGuest: ConformanceTest = {
      area: "unit",
      name: "needs-guest",
      description: "boots a guest that is not there",
      requires: {},
      run: (ctx) => {
        ctx.guestImage("absent");
        return success();
      },
    };
    const report = await runSuite({
      arches: [createStubArchPlugin(toyArchIdentity("toy"))],
      tests: [needsGuest],
      container,
      selection: { roles: ["dom0"] },
    });
    expect(report.entries).toHaveLength(1);
    const [cell] = report.entries;
    expect(cell.result).toBe("ERROR");
    expect(cell.message).toMatch(
      /^PackageFileMissingError: guests\/toy\/bin\/absent\.elf of @hvkit\/conformance is missing/,
    );
    expect(cell.message).not.toMatch(/\bat .*:\d+:\d+/);
  });
});

describe("a compiled guest the cell's arch has not built", () => {
  it("is an UNSUPPORTED cell naming the guest, a SKIP naming a lacking feature; a built one runs", async () => {
    mkdirSync(join(scratch, "built", "toy", "bin"), { recursive: true });
    writeFileSync(join(scratch, "built", "toy", "bin", "present.elf"), Uint8Array.of(0x7f));
    const boots = (guest: string): ConformanceTest => ({
      area: "unit",
      name: guest,
      description: `boots ${guest}`,
      requires: { guests: [COMPILED_GUEST_SET], compiledGuests: [guest] },
      run: (ctx) => success(`${ctx.guestImage(guest).length} byte`),
    });
    // A feature the arch lacks is the reason given, before the guest it did not build.
    const needsFeature: ConformanceTest = {
      ...boots("unbuilt-for-lack"),
      requires: {
        guests: [COMPILED_GUEST_SET],
        compiledGuests: ["unbuilt-for-lack"],
        features: ["segmentation"],
      },
    };
    const report = await runSuite({
      arches: [createStubArchPlugin(toyArchIdentity("toy"))],
      tests: [boots("present"), boots("absent"), needsFeature],
      container,
      selection: { roles: ["dom0"] },
      guestFiles: guestFilesIn(join(scratch, "built")),
    });
    expect(report.entries.map((e) => [e.id, e.result, e.message])).toEqual([
      ["toy/pv/hvkit-c/dom0/unit/present", "SUCCESS", "1 byte"],
      [
        "toy/pv/hvkit-c/dom0/unit/absent",
        "UNSUPPORTED",
        "guest absent is not built for toy (conformance/guests/toy/bin/)",
      ],
      ["toy/pv/hvkit-c/dom0/unit/unbuilt-for-lack", "SKIP", "needs feature segmentation"],
    ]);
  });
});
