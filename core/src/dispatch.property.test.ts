import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NR_HYPERCALLS } from "./abi/numbers.js";
import type { Domain } from "./domain.js";
import { copyToGuest } from "./guest-memory.js";
import { fakeVcpu, type FakeStep } from "./testing/fake-arch.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "./testing/fake-machine.js";

/** Everything observable about a domain, for before/after comparison. */
function snapshot(d: Domain, memory: Uint8Array, pageSize: number, owner: Int32Array) {
  const frames: number[] = [];
  for (let mfn = 0; mfn < owner.length; mfn++) {
    if (owner[mfn] !== d.id) continue;
    let h = 0;
    for (const b of memory.subarray(mfn * pageSize, (mfn + 1) * pageSize)) h = (h * 31 + b) | 0;
    frames.push(mfn, h);
  }
  return {
    state: d.state,
    shutdownReason: d.shutdownReason,
    shutdownCode: d.shutdownCode,
    vmAssist: d.vmAssist,
    totPages: d.totPages,
    maxPages: d.maxPages,
    vcpus: d.vcpus.map((v) => v.state),
    ports: [...d.eventChannels.state],
    frames,
  };
}

/** Argument values a fuzzer should try: anything, small numbers, pointers near mapped data, domain ids. */
const argument = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: -4, max: 4 }).map((x) => BigInt.asUintN(64, BigInt(x))),
  {
    weight: 3,
    arbitrary: fc.integer({ min: -64, max: 3 * 4096 }).map((off) => DATA_VA + BigInt(off)),
  },
  fc.constantFrom(0, 1, 2, 0x7ff0, 0x7ff1, 0x7ff2, 0x7fff, 0xffff),
);
/** Mostly numbers the table has, sometimes anything. */
const hypercallNumber = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(12, 17, 18, 21, 29, 32) },
  fc.integer({ min: 0, max: NR_HYPERCALLS + 4 }),
  fc.integer(),
);
/** Mostly sub-op numbers that exist, sometimes anything. */
const command = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 15 }) }, argument);
const call = fc.record({
  nr: hypercallNumber,
  args: fc
    .tuple(command, fc.array(argument, { minLength: 5, maxLength: 5 }))
    .map(([c, rest]) => [c, ...rest]),
});
/** What the attacker's data area holds: structs full of small ids and reasons, or noise. */
const dataPattern = fc.oneof(
  fc.constant(new Uint8Array(8)),
  fc.integer({ min: 0, max: 3 }).map((id) => Uint8Array.from([id, 0, 0, 0, id, 0, 0, 0])),
  fc.uint8Array({ minLength: 8, maxLength: 8 }),
);

function world() {
  const fm = fakeMachine({ vmAssistTypes: [0, 1, 2, 3, 4, 5, 32], hypercalls: [] });
  const dom0 = addFakeDomain(fm.machine, {
    privileged: true,
    pages: 2,
    script: [{ kind: "compute", instructions: 1e9 }],
  });
  dom0.eventChannels.state[5] = 2; // an unbound port the attacker cannot touch
  const victim = addFakeDomain(fm.machine, { pages: 2 });
  const attacker = addFakeDomain(fm.machine, { pages: 3 });
  return { ...fm, dom0, victim, attacker };
}

/** Repeats `pattern` over the attacker's three data pages. */
function fill(d: Domain, pattern: Uint8Array): void {
  const page = new Uint8Array(3 * 4096);
  for (let i = 0; i < page.length; i += 8) page.set(pattern, i);
  expect(copyToGuest(d.vcpus[0], DATA_VA, page)).toBe(0);
}

describe("dispatch from an unprivileged domain (property)", () => {
  it("never throws and never changes another domain", () => {
    fc.assert(
      fc.property(
        fc.array(call, { minLength: 1, maxLength: 25 }),
        dataPattern,
        (calls, pattern) => {
          const { machine, sink, dom0, victim, attacker } = world();
          fill(attacker, pattern);
          const mem = machine.memory;
          const before = [dom0, victim].map((d) =>
            snapshot(d, mem.bytes, mem.pageSize, mem.frameTable.owner),
          );
          for (const c of calls) {
            const r = hypercall(attacker, c.nr, c.args);
            expect(typeof r === "number" || typeof r === "bigint").toBe(true);
            if (typeof r === "number") expect(Number.isInteger(r)).toBe(true);
          }
          const after = [dom0, victim].map((d) =>
            snapshot(d, mem.bytes, mem.pageSize, mem.frameTable.owner),
          );
          expect(after).toEqual(before);
          expect(sink.textOf(dom0.id) + sink.textOf(victim.id) + sink.textOf(attacker.id)).toBe("");
          expect(sink.messages.filter((m) => m.includes("internal error"))).toEqual([]);
        },
      ),
      { numRuns: 300, seed: 0x5eed },
    );
  });

  it("through the run loop too: the attacker's script never stops the machine or touches dom0", () => {
    fc.assert(
      fc.property(
        fc.array(call, { minLength: 1, maxLength: 15 }),
        dataPattern,
        (calls, pattern) => {
          const { machine, sink, dom0, attacker } = world();
          fill(attacker, pattern);
          const script: FakeStep[] = calls.map((c) => ({
            kind: "hypercall",
            nr: c.nr,
            args: c.args,
          }));
          fakeVcpu(attacker.vcpus[0]).push(...script);
          const mem = machine.memory;
          const before = snapshot(dom0, mem.bytes, mem.pageSize, mem.frameTable.owner);
          const outcome = machine.run({ maxInstructions: 50_000 });
          expect(outcome.kind).toBe("budget-exhausted"); // dom0 computes for ever
          expect(snapshot(dom0, mem.bytes, mem.pageSize, mem.frameTable.owner)).toEqual(before);
          expect(sink.messages.filter((m) => m.includes("internal error"))).toEqual([]);
        },
      ),
      { numRuns: 100, seed: 0xbeef },
    );
  });
});
