/**
 * `hvkit run --arch ppc` of the translated-mode guest (conformance/guests/ppc/translated.c,
 * built by conformance/guests/build.sh): a C guest that enters its own PTEs with H_ENTER,
 * turns on instruction and data relocation with rfid and prints through console_io from
 * there. Its store through a second mapping at EA 0x10000000 (past the 64 MiB real-mode
 * area) reads back through the first, which only the hashed page table can make true.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPOSITORY_ROOT, runHvkit } from "./testing.js";

const IMAGE = join(REPOSITORY_ROOT, "conformance/guests/ppc/bin/translated.elf");

describe("hvkit run --arch ppc, a guest in translated mode", () => {
  it("prints from translated mode through console_io and powers off", async () => {
    const r = await runHvkit("run", "--arch", "ppc", IMAGE);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      [
        "translated: 10 PTEs entered, HPT 2^20 bytes, alias H_ENTER 0",
        "translated: running with MSR[IR] 1 MSR[DR] 1",
        "translated: stored 0xc0ffee42 at 0x10000008, read 0xc0ffee42 at 0x108008",
        "translated: done",
        "",
      ].join("\n"),
    );
    expect(r.status).toBe(0);
  });
});
