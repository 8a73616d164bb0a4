import { describe, expect, test } from "vitest";
import { GuestAdapterHookMissingError, type GuestCell } from "./guest-adapter.js";
import {
  GUEST_ADAPTER_HOOK_NAMES,
  createStubGuestAdapter,
  declinedByDeclarations,
  type GuestAdapterIdentity,
} from "./guest-adapter-stub.js";

describe("createStubGuestAdapter", () => {
  const identity: GuestAdapterIdentity = {
    name: "toyos",
    arches: ["x86_64", "ppc"],
    roles: ["domU"],
    modes: ["pv"],
    imageFormat: "elf",
  };
  const stub = createStubGuestAdapter(identity);
  const cell: GuestCell = { arch: "ppc", mode: "pv", role: "domU" };

  test("keeps the declarations", () => {
    expect(stub).toMatchObject(identity);
  });

  test("stubs the image, the command line and the milestones, in the order a cell needs them", () => {
    expect(GUEST_ADAPTER_HOOK_NAMES).toEqual(["buildImage", "commandLine", "milestones"]);
  });

  test.each(GUEST_ADAPTER_HOOK_NAMES)("%s fails loudly with its own name", (hook) => {
    const call = () => (stub[hook] as (c: GuestCell) => unknown)(cell);
    expect(call).toThrow(GuestAdapterHookMissingError);
    expect(call).toThrow(`guest adapter toyos: hook ${hook} is not implemented yet`);
    try {
      call();
    } catch (e) {
      expect(e).toMatchObject({ adapter: "toyos", hook, name: "GuestAdapterHookMissingError" });
    }
  });

  test("declines exactly the cells outside its declarations, saying which part", () => {
    expect(stub.declines(cell)).toBeNull();
    expect(stub.declines({ ...cell, arch: "x86_64" })).toBeNull();
    expect(stub.declines({ ...cell, arch: "ia64" })).toBe(
      "toyos is not ported to ia64 (it runs on x86_64, ppc)",
    );
    expect(stub.declines({ ...cell, mode: "hv" })).toBe(
      "toyos does not run in mode hv (it runs in pv)",
    );
    expect(stub.declines({ ...cell, role: "dom0" })).toBe("toyos cannot be dom0 (it plays domU)");
  });

  test("an adapter ported to no arch yet declines every cell and says so", () => {
    expect(declinedByDeclarations({ ...identity, arches: [] }, cell)).toBe(
      "toyos is not ported to ppc (it runs on no arch yet)",
    );
  });
});
