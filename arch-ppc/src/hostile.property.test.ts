/**
 * Hostile PowerPC guests: a domU runs random instruction words (its vectors live, so
 * interrupts loop back into its own code) and makes random hypercalls — Xen calls and
 * PAPR hcalls with random arguments, handles inline, plain or pointing at descriptors —
 * beside a well-behaved dom0. Whatever it does, hvkit catches no internal error, every
 * hypercall returns an integer, and dom0's frames keep their owner and (but shared_info,
 * which Xen writes) their bytes.
 *
 * Seeded; `HVKIT_FUZZ_RUNS=n` runs n cases.
 *
 * @module
 */
import "reflect-metadata";
import fc from "fast-check";
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import {
  bootDomU,
  bootInitialDomain,
  buildElf,
  createMachine,
  HYPERCALL_OBSERVERS,
  RecordingConsoleSink,
  type HypercallObserver,
} from "@hvkit/core";
import { PpcPvPlugin, type PpcPv } from "./plugin.js";
import { XENCOMM_INLINE_FLAG } from "./xencomm.js";

const RUNS = Number(process.env.HVKIT_FUZZ_RUNS ?? 40);

/** An image linked at 0: a `b .` at every vector, RI = 1 at 0x1000, then `words`. */
function image(words: readonly number[]): Uint8Array {
  const data = new Uint8Array(0x3000);
  const v = new DataView(data.buffer);
  for (let a = 0x100; a < 0x1000; a += 0x100) v.setUint32(a, 0x48000000); // b .
  v.setUint32(0x1000, 0x38000002); // li r0,2
  v.setUint32(0x1004, 0x7c010164); // mtmsrd r0,1
  words.forEach((w, i) => v.setUint32(0x1008 + 4 * i, w >>> 0));
  return buildElf({
    machine: 21,
    endianness: "big",
    entry: 0x1000,
    segments: [{ vaddr: 0, data }],
  });
}

/** A hypercall register: small numbers, inline handles and plain addresses of all kinds. */
const arg = fc.oneof(
  fc.bigInt({ min: 0n, max: 64n }),
  fc.bigInt({ min: 0n, max: 0x4000n }).map((a) => a | XENCOMM_INLINE_FLAG),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(0x2000n, 0x2008n, 0x2ff8n, 0x1ffffffn | XENCOMM_INLINE_FLAG),
);

describe("hostile ppc guests", () => {
  it("random code and hypercalls crash at most the guest, never hvkit or dom0", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 1, maxLength: 48 }),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 0x1d8 }),
            fc.boolean(),
            fc.array(arg, { minLength: 6, maxLength: 6 }),
          ),
          {
            maxLength: 12,
          },
        ),
        (words, calls) => {
          const console = new RecordingConsoleSink();
          const results: (number | bigint)[] = [];
          const observer: HypercallObserver = {
            hypercall: (_v, _nr, _a, r) => void results.push(r),
          };
          const c = container.createChildContainer();
          c.register(HYPERCALL_OBSERVERS, { useValue: observer });
          const m = createMachine<PpcPv>(c, { arch: new PpcPvPlugin(), memoryMiB: 64, console });
          const dom0 = bootInitialDomain(m, image([0x48000000]), { maxPages: 4096 });
          const before = dom0.p2m.map((mfn) =>
            m.memory.bytes
              .subarray(mfn * 4096, mfn * 4096 + 4096)
              .reduce((h, b) => (h * 31 + b) | 0, 0),
          );
          // The attacker: "XCOM" descriptors at 0x2000 and 0x2ff8 (header across no page, then one that ends the page), random code.
          const d = bootDomU(m, image(words), { maxPages: 2048 }).domain;
          const at = (gpa: number): number => d.p2m[gpa >> 12]! * 4096 + (gpa & 0xfff);
          const view = new DataView(m.memory.bytes.buffer);
          view.setUint32(at(0x2000), 0x58434f4d);
          view.setUint32(at(0x2004), 3);
          [0x1ff0n, 0xffff_ffff_ffff_ffffn, 0x7fff_ffff_0000n].forEach((a, i) =>
            view.setBigUint64(at(0x2008 + 8 * i), a),
          );
          const cpu = d.vcpus[0]!.arch.cpu;
          m.run({ maxInstructions: 20_000 });
          for (const [nr, xen, regs] of calls) {
            if (d.isDead) break;
            // Enter `sc 1` at 0x1f00 (then `b .`) with the call's registers.
            view.setUint32(at(0x1f00), 0x44000022);
            view.setUint32(at(0x1f04), 0x48000000);
            cpu.setPc(0x1f00n);
            cpu.setGpr(3, xen ? 0xffff_ffff_ffff_0000n | BigInt(nr & 0x3f) : BigInt(nr));
            regs.forEach((r, i) => cpu.setGpr(4 + i, r));
            m.run({ maxInstructions: 2_000 });
          }
          expect(console.messages.filter((l) => /internal error/.test(l))).toEqual([]);
          for (const r of results) expect(Number.isInteger(Number(r))).toBe(true);
          dom0.p2m.forEach((mfn, pfn) => {
            expect(m.memory.frameTable.owner[mfn]).toBe(0);
            // shared_info is Xen's to write (time, events).
            if (mfn === dom0.sharedInfoMfn) return;
            const h = m.memory.bytes
              .subarray(mfn * 4096, mfn * 4096 + 4096)
              .reduce((x, b) => (x * 31 + b) | 0, 0);
            expect(h, `dom0 pfn ${pfn}`).toBe(before[pfn]);
          });
        },
      ),
      { numRuns: RUNS, seed: 0x9e3779b9 },
    );
  }, 120_000);
});
