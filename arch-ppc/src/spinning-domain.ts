/**
 * A test fixture: a ppc initial domain whose guest is one instruction, `b .` at
 * guest-physical 0, for tests that drive the vCPU's MMU, hypercall handlers or time
 * records from the host while the guest only spins.
 *
 * @module
 */
import "reflect-metadata";
import { container } from "tsyringe";
import { bootInitialDomain, buildElf, createMachine, type Domain, type Machine } from "@hvkit/core";
import { PpcPvPlugin, type PpcPv } from "./plugin.js";

/** Boots the spinning guest as the initial domain of a new machine of `memoryMiB` MiB. */
export function bootSpinningDomain(memoryMiB = 16): {
  m: Machine<PpcPv>;
  domain: Domain<PpcPv>;
} {
  const m = createMachine<PpcPv>(container.createChildContainer(), {
    arch: new PpcPvPlugin(),
    memoryMiB,
  });
  const code = new Uint8Array(0x1000);
  new DataView(code.buffer).setUint32(0, 0x48000000, false); // b .
  const image = buildElf({
    machine: 21,
    endianness: "big",
    entry: 0n,
    segments: [{ vaddr: 0n, paddr: 0n, data: code }],
  });
  return { m, domain: bootInitialDomain(m, image, { cmdline: "" }) };
}
