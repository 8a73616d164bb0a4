import { describe, expect, test } from "vitest";
import { ArchHookMissingError } from "./arch-plugin.js";
import { createStubArchPlugin } from "./arch-stub.js";

describe("createStubArchPlugin", () => {
  const stub = createStubArchPlugin({
    name: "toy",
    elfMachines: [999],
    elfClasses: [64],
    endianness: "big",
    wordBits: 64,
    pageSizes: [4096],
    dataModel: "ppc64",
    startInfoMagic: "xen-3.0-toy",
    modes: ["pv"],
    features: [],
  });

  test("keeps the identity", () => {
    expect(stub.name).toBe("toy");
    expect(stub.endianness).toBe("big");
  });

  test.each(["hypercalls", "createVcpu", "buildDomain", "disassemble"] as const)(
    "hook %s fails loudly with its own name",
    (hook) => {
      const call = () => (stub[hook] as (...a: unknown[]) => unknown)();
      expect(call).toThrow(ArchHookMissingError);
      expect(call).toThrow(`arch toy: hook ${hook} is not implemented yet`);
    },
  );
});
