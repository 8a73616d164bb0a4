/**
 * runGuest's domU role end to end on the x86_64 PV port: the image boots as domain 1
 * under the built-in dom0, its PV console reaches the output, the run ends when it powers
 * off (dom0 follows), and two runs are identical to the instruction (virtual time only).
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { ShutdownReason } from "@hvkit/core";
import { X86_64PvPlugin, type PvDomainState } from "@hvkit/arch-x86_64";
import { machineMemoryForDomU, runGuest, startGuest } from "./guest-run.js";

const guest = (name: string) => new URL(`../../conformance/guests/x86_64/${name}`, import.meta.url);

describe("runGuest role domU", () => {
  const image = new Uint8Array(readFileSync(guest("bin/console-ring.elf")));
  const expected = readFileSync(guest("expected/console-ring.txt"), "latin1");
  const run = () =>
    runGuest(container.createChildContainer(), {
      arch: new X86_64PvPlugin(),
      image,
      role: "domU",
      consoleInput: new TextEncoder().encode("hello hvkit\n"),
    });

  it("boots the image as a domU whose console ring is the output, and ends when it powers off", () => {
    const r = run();
    expect(r.end).toBe("all-shutdown");
    expect(r.console).toBe(expected);
    expect(r.shutdownReason).toBe(ShutdownReason.Poweroff);
    expect(r.hypervisorMessages).toEqual(["console input: 12 bytes typed at domain 1's console"]);
  });

  it("is deterministic: two runs retire the same instructions and print the same bytes", () => {
    const a = run();
    const b = run();
    expect(b.instructions).toBe(a.instructions);
    expect(b.console).toBe(a.console);
  });

  it("the same image as dom0 has no console ring and says so (crash)", () => {
    const r = runGuest(container.createChildContainer(), { arch: new X86_64PvPlugin(), image });
    expect(r.shutdownReason).toBe(ShutdownReason.Crash);
    expect(r.console).toMatch(/run it with --role domu/);
  });
});

describe("runGuest role domU with an xl config's settings", () => {
  const arch = () => new X86_64PvPlugin();
  const image = (name: string) => new Uint8Array(readFileSync(guest(`bin/${name}.elf`)));

  it("builds the domain with domainMemoryMiB (not libxl's 32 MiB default), sizes the machine for it, and tells xenstore memory and vCPUs", () => {
    const s = startGuest(container.createChildContainer(), {
      arch: arch(),
      image: image("console-ring"),
      role: "domU",
      name: "sized",
      domainMemoryMiB: 96,
      domainMaxMemoryMiB: 200,
      vcpus: 3,
      onlineVcpus: 2,
      ramdisk: new Uint8Array(10_000).fill(7),
    });
    expect(s.domain.totPages).toBe(96 * 256);
    const layout = (s.domain.arch as PvDomainState).layout!;
    expect(layout.vPhysmap - layout.vRamdisk).toBe(3n * 4096n); // the ramdisk's pages
    expect(s.domain.maxPages).toBe(96 * 256 + 256); // libxl's LIBXL_MAXMEM_CONSTANT on top
    expect(s.domain.vcpus.length).toBe(3);
    expect(s.machine.memory.frames).toBe(machineMemoryForDomU(96) * 256);
    expect(machineMemoryForDomU(96)).toBeGreaterThan(96 + 1);
    const val = (p: string) =>
      new TextDecoder().decode(s.dom0!.xenstore.daemon.peek(`/local/domain/1/${p}`)!.data);
    expect(val("name")).toBe("sized");
    expect(val("memory/target")).toBe(String(96 * 1024));
    expect(val("memory/static-max")).toBe(String(200 * 1024));
    expect(val("cpu/1/availability")).toBe("online");
    expect(val("cpu/2/availability")).toBe("offline");
    // Without it, a domU still gets libxl's default.
    const plain = startGuest(container.createChildContainer(), {
      arch: arch(),
      image: image("console-ring"),
      role: "domU",
    });
    expect(plain.domain.totPages).toBe(32 * 256);
  });

  it("on_reboot = destroy ends the run with the domain destroyed; restart builds it again until the budget ends", () => {
    const destroyed = runGuest(container.createChildContainer(), {
      arch: arch(),
      image: image("exit-reboot"),
      role: "domU",
      onShutdown: { reboot: "destroy" },
    });
    expect(destroyed.end).toBe("all-shutdown");
    expect(destroyed.shutdownReason).toBe(ShutdownReason.Reboot);
    expect(destroyed.domid).toBe(1);

    const s = startGuest(container.createChildContainer(), {
      arch: arch(),
      image: image("exit-reboot"),
      role: "domU",
      name: "looping",
      onShutdown: { reboot: "restart" },
    });
    expect(s.run(destroyed.instructions * 3 + 10).kind).toBe("budget-exhausted");
    const r = s.result("budget-exhausted");
    expect(r.hypervisorMessages.filter((m) => m.includes("on_reboot")).slice(0, 2)).toEqual([
      'domain 1 (looping) shut down (reboot): on_reboot = "restart": started again as domain 2',
      'domain 2 (looping) shut down (reboot): on_reboot = "restart": started again as domain 3',
    ]);
    expect(r.domid).toBe(s.domain.id);
    expect(s.domain.id).toBeGreaterThanOrEqual(4);
    expect(s.machine.domains.size).toBe(2); // dom0 and the current incarnation only
  });
});
