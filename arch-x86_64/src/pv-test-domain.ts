/**
 * Test fixture: a freshly built x86_64 PV dom0 (the hello guest, not yet run) on a 32 MiB
 * machine, with a hypercall door and guest-memory accessors, for unit tests of the PV
 * layer that call hypercalls and trap paths directly. Not exported from the package.
 *
 * @module
 */
import "reflect-metadata";
import { readFileSync } from "node:fs";
import { container } from "tsyringe";
import {
  bootInitialDomain,
  createMachine,
  RecordingConsoleSink,
  type HypercallArgs,
  type MachineOptions,
} from "@hvkit/core";
import { Reg, Vector } from "@hvkit/arch-x86";
import { X86_64PvPlugin } from "./plugin.js";
import { handleException } from "./traps.js";

const HELLO = new URL("../../conformance/guests/x86_64/bin/hello.elf", import.meta.url);

/**
 * Boots the hello guest as dom0 and returns the pieces PV unit tests work with.
 * `options`: machine options beyond the arch, memory and console (e.g. `pvLinearPt`).
 */
export function bootedPvDomain(options: Omit<MachineOptions, "arch" | "console"> = {}) {
  const plugin = new X86_64PvPlugin();
  const sink = new RecordingConsoleSink();
  const machine = createMachine(container.createChildContainer(), {
    memoryMiB: 32,
    ...options,
    arch: plugin,
    console: sink,
  });
  const domain = bootInitialDomain(machine, readFileSync(HELLO));
  const vcpu = domain.vcpus[0];
  const v = vcpu.arch;
  const layout = domain.arch.layout!;
  // Scratch guest memory: the boot stack page (writable, mapped).
  const scratch = layout.vStack;
  /** Hypercall `nr` with up to six arguments, through the machine's dispatcher. */
  const callBig = (nr: number, ...a: (number | bigint)[]): bigint => {
    const args: HypercallArgs = vcpu.hypercallArgs;
    for (let i = 0; i < 6; i++) {
      const x = BigInt.asUintN(64, BigInt(a[i] ?? 0));
      args.set(i, Number(x & 0xffffffffn), Number(x >> 32n));
    }
    return BigInt(machine.dispatchHypercall(vcpu, nr, args));
  };
  const call = (nr: number, ...a: (number | bigint)[]): number => Number(callBig(nr, ...a));
  const put64 = (va: bigint, val: bigint): void =>
    machine.memory.view.setBigUint64(v.translate(va, true), BigInt.asUintN(64, val), true);
  const get64 = (va: bigint): bigint =>
    machine.memory.view.getBigUint64(v.translate(va, false), true);
  /** Writes guest code at `at` and drops any cached decoding of it. */
  const putCode = (at: bigint, code: number[]): void => {
    code.forEach((b, i) => (machine.memory.bytes[v.translate(at + BigInt(i), true)] = b));
    v.cpu.invalidateCode(v.translate(at, false), 16);
  };
  /**
   * Puts `code` at scratch + 0x100, points rip there (rsp at scratch + 0x800), installs
   * #GP and #UD handlers at 0x101000 / 0x102000 and delivers the #GP(0) the code raised,
   * as the CPU would report it; returns what the PV layer's exception path answered.
   */
  const gp = (code: number[]): string | null => {
    const at = scratch + 0x100n;
    putCode(at, code);
    v.cpu.rip = at;
    v.cpu.setReg(Reg.RSP, scratch + 0x800n);
    v.trapAddr[Vector.GP] = 0x101000n;
    v.trapAddr[Vector.UD] = 0x102000n;
    const x = v.cpu.exit;
    x.vector = Vector.GP;
    x.errorCode = 0;
    x.software = false;
    return handleException(v);
  };
  return {
    plugin,
    machine,
    domain,
    vcpu,
    v,
    layout,
    scratch,
    call,
    callBig,
    put64,
    get64,
    putCode,
    gp,
    sink,
    mmu: plugin.mmu(machine),
  };
}
