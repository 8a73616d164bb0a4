import "reflect-metadata";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { ARCH_PLUGINS, GUEST_ADAPTERS } from "./di.js";
import type { GuestAdapter } from "./guest-adapter.js";
import {
  ArchRegistry,
  DuplicatePluginError,
  GuestAdapterRegistry,
  UnknownPluginError,
} from "./registry.js";
import { FakeArch } from "./testing/fake-arch.js";

const adapter = (name: string): GuestAdapter => ({
  name,
  arches: ["x86_64"],
  roles: ["domU"],
  modes: ["pv"],
  imageFormat: "elf",
  declines: () => null,
  buildImage: () => new Uint8Array(0),
});

describe("registries", () => {
  it("collect their plugin sets through DI, in registration order", () => {
    const root = container.createChildContainer();
    root.register(ARCH_PLUGINS, { useValue: new FakeArch({ name: "x86_64" }) });
    root.register(ARCH_PLUGINS, { useValue: new FakeArch({ name: "ppc" }) });
    root.register(GUEST_ADAPTERS, { useValue: adapter("linux") });
    const arches = root.resolve(ArchRegistry);
    expect(arches.names()).toEqual(["x86_64", "ppc"]);
    expect(arches.get("ppc").name).toBe("ppc");
    expect(arches.has("ia64")).toBe(false);
    expect(root.resolve(GuestAdapterRegistry).get("linux").imageFormat).toBe("elf");
  });

  it("are empty without a plugin set, and can be added to", () => {
    const root = container.createChildContainer();
    const arches = root.resolve(ArchRegistry);
    expect(arches.all()).toEqual([]);
    expect(() => arches.get("x86_64")).toThrow(/unknown arch "x86_64" \(known: none registered\)/);
    arches.register(new FakeArch({ name: "ia64" }));
    expect(arches.get("ia64").name).toBe("ia64");
  });

  it("say which names exist when one is unknown, and refuse duplicates", () => {
    const guests = new GuestAdapterRegistry([adapter("linux"), adapter("netbsd")]);
    let err: unknown;
    try {
      guests.get("darwin");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnknownPluginError);
    expect((err as UnknownPluginError).known).toEqual(["linux", "netbsd"]);
    expect((err as Error).message).toBe('unknown guest adapter "darwin" (known: linux, netbsd)');
    expect(() => guests.register(adapter("linux"))).toThrow(DuplicatePluginError);
    expect(() => new ArchRegistry([new FakeArch(), new FakeArch()])).toThrow(
      /arch "fake" is registered twice/,
    );
  });
});
