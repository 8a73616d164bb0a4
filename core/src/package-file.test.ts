import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { HvkitError } from "./errors.js";
import { PackageFileMissingError, readPackageFile } from "./package-file.js";

// A fake installed package: <scratch>/node_modules/@acme/arch-toy with an agent folder.
const scratch = mkdtempSync(join(tmpdir(), "hvkit-package-file-"));
const pkg = join(scratch, "node_modules", "@acme", "arch-toy");
mkdirSync(join(pkg, "agent"), { recursive: true });
mkdirSync(join(pkg, "dist"), { recursive: true });
writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "@acme/arch-toy" }));
writeFileSync(join(pkg, "agent", "agent.elf"), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error("expected a throw");
};

describe("readPackageFile", () => {
  it("reads a file given by a URL relative to the package's code, or by path", () => {
    const url = new URL("../agent/agent.elf", pathToFileURL(join(pkg, "dist", "index.js")));
    expect([...readPackageFile(url)]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
    expect([...readPackageFile(join(pkg, "agent", "agent.elf"))]).toEqual([0x7f, 0x45, 0x4c, 0x46]);
  });

  it("names the missing file relative to its package, the package and the hint", () => {
    const url = new URL("../agent/gone.elf", pathToFileURL(join(pkg, "dist", "index.js")));
    const e = caught(() => readPackageFile(url, "run agent/build.sh"));
    expect(e).toBeInstanceOf(PackageFileMissingError);
    expect(e).toBeInstanceOf(HvkitError);
    const err = e as PackageFileMissingError;
    expect(err.file).toBe("agent/gone.elf");
    expect(err.packageName).toBe("@acme/arch-toy");
    expect(err.path).toBe(join(pkg, "agent", "gone.elf"));
    expect(err.message).toBe(
      `agent/gone.elf of @acme/arch-toy is missing (looked for ${err.path}): ` +
        "reinstall the package, or run agent/build.sh",
    );
  });

  it("says the same when a folder on the path is missing or is a file", () => {
    const noFolder = caught(() => readPackageFile(join(pkg, "guests", "x", "a.elf")));
    expect(noFolder).toMatchObject({ file: "guests/x/a.elf", packageName: "@acme/arch-toy" });
    const fileAsFolder = caught(() => readPackageFile(join(pkg, "agent", "agent.elf", "more")));
    expect(fileAsFolder).toBeInstanceOf(PackageFileMissingError);
    expect(fileAsFolder).toMatchObject({ file: "agent/agent.elf/more" });
  });

  it("passes any other read error on as Node raised it", () => {
    const e = caught(() => readPackageFile(join(pkg, "agent")));
    expect(e).not.toBeInstanceOf(HvkitError);
    expect(e).toMatchObject({ code: "EISDIR" });
  });
});
