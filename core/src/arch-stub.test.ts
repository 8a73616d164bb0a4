import { describe, expect, expectTypeOf, test } from "vitest";
import { ArchHookMissingError, type ArchPlugin } from "./arch-plugin.js";
import {
  ARCH_HOOK_NAMES,
  ARCH_IDENTITY_KEYS,
  createStubArchPlugin,
  type ArchHookName,
  type ArchIdentity,
  type ArchIdentityKey,
} from "./arch-stub.js";
import { toyArchIdentity } from "./testing/toy-arch.js";
import { TEST_LP64_BE } from "./testing/data-models.js";

describe("createStubArchPlugin", () => {
  const identity: ArchIdentity = {
    name: "toy",
    elfMachines: [999],
    elfClasses: [64],
    endianness: "big",
    wordBits: 64,
    pageSizes: [4096],
    dataModel: TEST_LP64_BE,
    requiresXenNotes: false,
    startInfoMagic: "xen-3.0-toy",
    modes: ["pv"],
    features: ["hypercall-page"],
    capabilities: "xen-3.0-toy xen-3.0-toy32",
  };
  const stub = createStubArchPlugin(identity);

  test("keeps the identity, optional members included", () => {
    for (const key of Object.keys(identity) as (keyof ArchIdentity)[])
      expect(stub[key]).toEqual(identity[key]);
  });

  test("has a stub for every hook, optional ones included", () => {
    expect(ARCH_HOOK_NAMES).toEqual(
      expect.arrayContaining([
        "hypercalls",
        "createVcpu",
        "guestAgent",
        "memoryOp",
        "setVcpuContext",
        "resetVcpu",
        "maximumGpfn",
      ]),
    );
  });

  test.each(ARCH_HOOK_NAMES)("hook %s fails loudly with its own name", (hook) => {
    const call = () => (stub[hook] as (...a: unknown[]) => unknown)();
    expect(call).toThrow(ArchHookMissingError);
    expect(call).toThrow(`arch toy: hook ${hook} is not implemented yet`);
    try {
      call();
    } catch (e) {
      expect(e).toMatchObject({ arch: "toy", hook });
    }
  });

  test("identity keys and hook names split the interface: data one side, functions the other", () => {
    // Checked by tsc (npm run typecheck): a member added to ArchPlugin in neither list, or
    // a data member listed as a hook, fails to compile in arch-stub.ts or here.
    expectTypeOf<ArchHookName | ArchIdentityKey>().toEqualTypeOf<keyof ArchPlugin>();
    type FunctionKeys = {
      [K in keyof ArchPlugin]-?: NonNullable<ArchPlugin[K]> extends (...a: never[]) => unknown
        ? K
        : never;
    }[keyof ArchPlugin];
    expectTypeOf<ArchHookName>().toEqualTypeOf<FunctionKeys>();
    expect(ARCH_IDENTITY_KEYS.filter((k) => (ARCH_HOOK_NAMES as string[]).includes(k))).toEqual([]);
    expect(new Set(ARCH_HOOK_NAMES).size).toBe(ARCH_HOOK_NAMES.length);
  });

  test("a port accepts an optional hook's fallback by leaving it undefined", () => {
    const port: ArchPlugin = { ...createStubArchPlugin(toyArchIdentity("p")), memoryOp: undefined };
    expect(port.memoryOp?.({} as never, 0, 0n, 0n)).toBeUndefined();
    expect(() => port.hypercalls()).toThrow(/hook hypercalls/);
  });
});
