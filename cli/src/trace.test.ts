import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { bareTraceMeansAll, parseTraceKinds } from "./trace.js";

describe("--trace's grammar", () => {
  it("takes all or a comma-separated list of kinds, in any case", () => {
    expect([...parseTraceKinds("all")]).toEqual(["hypercalls", "exits", "instructions"]);
    expect([...parseTraceKinds("ALL")]).toEqual(["hypercalls", "exits", "instructions"]);
    expect([...parseTraceKinds("hypercalls")]).toEqual(["hypercalls"]);
    expect([...parseTraceKinds(" Exits , hypercalls,exits ")]).toEqual(["exits", "hypercalls"]);
    for (const bad of ["", ",", "syscalls", "all,exits", "hypercall"]) {
      expect(() => parseTraceKinds(bad)).toThrow(InvalidArgumentError);
    }
  });

  it("reads a bare --trace as --trace=all, so it never takes the next word; not after --", () => {
    expect(bareTraceMeansAll(["run", "--trace", "guest.elf"])).toEqual([
      "run",
      "--trace=all",
      "guest.elf",
    ]);
    expect(bareTraceMeansAll(["run", "--trace=exits", "--", "--trace"])).toEqual([
      "run",
      "--trace=exits",
      "--",
      "--trace",
    ]);
  });
});
