/**
 * Test fixtures over the fake arch: a machine in its own child container, and domains
 * with a small mapped data area whose vCPU 0 runs a script.
 *
 * @module
 */
import "reflect-metadata";
import { container } from "tsyringe";
import type { GuestMode } from "../arch-plugin.js";
import { RecordingConsoleSink } from "../console-sink.js";
import type { Domain } from "../domain.js";
import { HypercallArgs } from "../hypercall.js";
import { createMachine, type HvMachine, type MachineOptions } from "../machine-impl.js";
import { VcpuState } from "../vcpu.js";
import {
  FakeArch,
  fakeVcpu,
  mapFakePages,
  type FakeArchOptions,
  type FakeStep,
  type FakeTypes,
} from "./fake-arch.js";

/** Where {@link addFakeDomain} maps each domain's data area. */
export const DATA_VA = 0x10000n;

/** A fake-arch machine and what tests look at. */
export interface FakeMachine {
  /** The machine. */
  readonly machine: HvMachine<FakeTypes>;
  /** Its fake arch. */
  readonly arch: FakeArch;
  /** Its console sink. */
  readonly sink: RecordingConsoleSink;
}

/** Builds a machine on a {@link FakeArch} (4 MiB unless `options` say otherwise). */
export function fakeMachine(
  archOptions: FakeArchOptions = {},
  options: Omit<MachineOptions, "arch" | "console"> = {},
): FakeMachine {
  const arch = new FakeArch(archOptions);
  const sink = new RecordingConsoleSink();
  const machine = createMachine(container.createChildContainer(), {
    memoryMiB: 4,
    ...options,
    arch,
    console: sink,
  });
  return { machine, arch, sink };
}

/** How {@link addFakeDomain} makes a domain. */
export interface FakeDomainOptions {
  /** Privileged (default false). */
  readonly privileged?: boolean;
  /** Domain id (default: next free). */
  readonly id?: number;
  /** Guest mode (default pv). */
  readonly mode?: GuestMode;
  /** vCPUs (default 1). */
  readonly vcpus?: number;
  /** Pages of data area mapped writable at {@link DATA_VA} (default 2). */
  readonly pages?: number;
  /** vCPU 0's script; vCPU 0 is made runnable. */
  readonly script?: FakeStep[];
}

/** Creates a domain with a data area and a runnable, scripted vCPU 0. */
export function addFakeDomain(
  machine: HvMachine<FakeTypes>,
  options: FakeDomainOptions = {},
): Domain<FakeTypes> {
  const domain = machine.createDomain({
    privileged: options.privileged ?? false,
    mode: options.mode ?? "pv",
    vcpus: options.vcpus ?? 1,
    ...(options.id !== undefined ? { id: options.id } : {}),
  });
  const pages = options.pages ?? 2;
  if (pages > 0) mapFakePages(machine, domain, DATA_VA, pages);
  fakeVcpu(domain.vcpus[0]).push(...(options.script ?? []));
  domain.vcpus[0].state = VcpuState.Runnable;
  return domain;
}

/**
 * Makes hypercall `nr` from `domain`'s vCPU `vcpu` through the machine's dispatcher (as
 * the run loop does on a hypercall exit) and returns the result.
 */
export function hypercall(
  domain: Domain,
  nr: number,
  args: readonly (number | bigint)[] = [],
  vcpu = 0,
): number | bigint {
  const v = domain.vcpus[vcpu];
  const a = new HypercallArgs();
  for (let i = 0; i < 6; i++) {
    const x = BigInt.asUintN(64, BigInt(args[i] ?? 0));
    a.set(i, Number(x & 0xffffffffn), Number(x >> 32n));
  }
  return v.machine.dispatchHypercall(v, nr, a);
}
