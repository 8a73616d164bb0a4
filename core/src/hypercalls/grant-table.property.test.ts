import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  GNTCOPY_DEST_GREF,
  GNTCOPY_SOURCE_GREF,
  GNTMAP_DEVICE_MAP,
  GNTMAP_HOST_MAP,
  GNTMAP_READONLY,
} from "../abi/grant-table.js";
import { GrantFlags, GrantStatus } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import { grantMappingsOf, grantTableOf } from "../grant-table.js";
import type { FakeAddressSpace } from "../testing/fake-arch.js";
import {
  copyGrant,
  grantFlags,
  grantWorld,
  MAP_VA,
  mapGrant,
  mfnAt,
  PAGE_VA,
  setGrantVersion,
  unmapGrant,
  writeGrant,
  writeGrantV2,
} from "../testing/grant-fixture.js";

const DOMID_SELF = 0x7ff0;
/** The granter's references in play: two reserved (kept across set_version) and two not. */
const REF_IDS = [0, 1, 8, 9];
const REFS = REF_IDS.length;
const SLOTS = 4;
const RW = GrantFlags.reading | GrantFlags.writing;

type Step =
  | { kind: "map"; ref: number; host: boolean; device: boolean; ro: boolean; slot: number }
  | { kind: "unmap"; pick: number; host: boolean; device: boolean }
  | { kind: "copy"; ref: number; toGrant: boolean; offset: number; len: number }
  | {
      kind: "regrant";
      ref: number;
      flags: number;
      domid: number;
      page: number;
      off: number;
      len: number;
    }
  | { kind: "version"; version: 1 | 2 };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant("map" as const),
    ref: fc.nat(REFS - 1),
    host: fc.boolean(),
    device: fc.boolean(),
    ro: fc.boolean(),
    slot: fc.nat(SLOTS - 1),
  }),
  fc.record({
    kind: fc.constant("unmap" as const),
    pick: fc.nat(),
    host: fc.boolean(),
    device: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("copy" as const),
    ref: fc.nat(REFS - 1),
    toGrant: fc.boolean(),
    offset: fc.nat(4100),
    len: fc.nat(64),
  }),
  fc.record({
    kind: fc.constant("regrant" as const),
    ref: fc.nat(REFS - 1),
    flags: fc.constantFrom(
      GrantFlags.permit_access,
      GrantFlags.permit_access | GrantFlags.readonly,
      GrantFlags.invalid,
      GrantFlags.permit_access | GrantFlags.reading | GrantFlags.writing,
      GrantFlags.permit_access | GrantFlags.sub_page,
      GrantFlags.permit_access | GrantFlags.sub_page | GrantFlags.readonly,
    ),
    domid: fc.constantFrom(2, 2, 3),
    page: fc.nat(1),
    off: fc.nat(4096),
    len: fc.nat(256),
  }),
  fc.record({
    kind: fc.constant("version" as const),
    version: fc.constantFrom(1 as const, 2 as const),
  }),
);

describe("grant tables: random map/unmap/copy/set_version sequences between two domains", () => {
  it("keep frame reference counts and GTF flags balanced; no writable mapping without a writable grant; v2 sub-page copies stay in range", () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 2), fc.array(step, { maxLength: 40 }), (version, steps) => {
        const { machine, a, b } = grantWorld();
        expect(setGrantVersion(a, version).rc).toBe(0);
        const ft = machine.memory.frameTable;
        const pages = [mfnAt(machine, a, PAGE_VA), mfnAt(machine, a, PAGE_VA + 0x1000n)];
        const bLocal = mfnAt(machine, b, PAGE_VA);
        /** Writes entry `ref` in the granter's current format (sub-page fields in v2 only). */
        const grant = (
          ref: number,
          flags: number,
          domid: number,
          page: number,
          off = 0,
          len = 0,
        ) => {
          if (grantTableOf(machine, a)?.version === 2)
            writeGrantV2(machine, a, ref, { flags, domid, frame: page, pageOff: off, length: len });
          else writeGrant(machine, a, ref, flags & ~GrantFlags.sub_page, domid, page);
        };
        REF_IDS.forEach((ref, r) =>
          grant(
            ref,
            GrantFlags.permit_access | (r % 2 ? GrantFlags.readonly : 0),
            b.id,
            pages[r % 2],
          ),
        );
        const hostAt = new Map<number, number>(); // handle → slot
        const space = b.arch as FakeAddressSpace;

        for (const s of steps) {
          if (s.kind === "map") {
            const flags =
              (s.host ? GNTMAP_HOST_MAP : 0) |
              (s.device ? GNTMAP_DEVICE_MAP : 0) |
              (s.ro ? GNTMAP_READONLY : 0);
            const slotVa = MAP_VA + BigInt(s.slot * 4096);
            if (s.host && space.pages.has(slotVa / 4096n)) continue; // keep one mapping per slot
            const ref = REF_IDS[s.ref];
            const before = grantFlags(machine, a, ref);
            const pinned = grantMappingsOf(b).some(([, m]) => m.ref === ref);
            const m = mapGrant(b, { ref, dom: a.id, flags, host_addr: slotVa });
            expect(m.rc).toBe(0);
            if (m.status === GrantStatus.okay) {
              // A new writable pin needs an entry without GTF_readonly issued to b.
              if (!s.ro && !pinned) expect(before & GrantFlags.readonly).toBe(0);
              if (!pinned)
                expect(before & (3 | GrantFlags.sub_page)).toBe(GrantFlags.permit_access);
              if (s.host) hostAt.set(m.handle, s.slot);
            } else if (flags & (GNTMAP_HOST_MAP | GNTMAP_DEVICE_MAP)) {
              expect(m.status).toBe(GrantStatus.general_error);
            }
          } else if (s.kind === "unmap") {
            const live = grantMappingsOf(b);
            if (live.length === 0) continue;
            const [handle, mt] = live[s.pick % live.length];
            const slot = hostAt.get(handle);
            const r = unmapGrant(b, {
              handle,
              host_addr: s.host && slot !== undefined ? MAP_VA + BigInt(slot * 4096) : 0n,
              dev_bus_addr:
                s.device && mt.flags & GNTMAP_DEVICE_MAP
                  ? BigInt(grantTableOf(machine, a)?.activeEntry(mt.ref).mfn ?? 0) * 4096n
                  : 0n,
            });
            expect(r.status).toBe(GrantStatus.okay);
            if (s.host && slot !== undefined) hostAt.delete(handle);
          } else if (s.kind === "copy") {
            const ref = REF_IDS[s.ref];
            const grantEnd = s.toGrant ? "dest" : "source";
            const localEnd = s.toGrant ? "source" : "dest";
            const gtNow = grantTableOf(machine, a);
            const pa = gtNow ? gtNow.entryAddress(ref) : 0;
            const subPage =
              gtNow?.version === 2 &&
              gtNow.activeEntry(ref).pin === 0 &&
              (machine.memory.read16(pa) & GrantFlags.sub_page) !== 0;
            const range = subPage
              ? [machine.memory.read16(pa + 4), machine.memory.read16(pa + 6)]
              : [0, 4096];
            const r = copyGrant(b, {
              [`${grantEnd}.u.ref`]: ref,
              [`${grantEnd}.domid`]: a.id,
              [`${grantEnd}.offset`]: s.offset,
              [`${localEnd}.u.gmfn`]: BigInt(bLocal),
              [`${localEnd}.domid`]: DOMID_SELF,
              len: s.len,
              flags: s.toGrant ? GNTCOPY_DEST_GREF : GNTCOPY_SOURCE_GREF,
            });
            expect(r.rc).toBe(0);
            if (s.len > 0 && s.offset + s.len > 4096 && r.status === GrantStatus.okay)
              throw new Error("copy past the page end succeeded");
            const [start, length] = range;
            if (
              s.len > 0 &&
              r.status === GrantStatus.okay &&
              (s.offset < start || s.offset + s.len > start + length)
            )
              throw new Error(`copy outside the sub-page grant [${start}, +${length}) succeeded`);
          } else if (s.kind === "regrant") {
            // The granter rewrites its entry (its business); pinned grants keep their frame.
            grant(REF_IDS[s.ref], s.flags, s.domid, pages[s.page], s.off, s.len);
          } else {
            const gt = grantTableOf(machine, a);
            const busy = REF_IDS.some((r) => r >= 8 && (gt?.activeEntry(r).pin ?? 0) !== 0);
            const before = gt?.version;
            const r = setGrantVersion(a, s.version);
            if (before === s.version) expect(r).toEqual({ rc: 0, version: s.version });
            else if (busy) expect(r).toEqual({ rc: -Errno.EBUSY, version: before });
            else expect(r).toEqual({ rc: 0, version: s.version });
          }

          // Invariants after every step.
          const gt = grantTableOf(machine, a);
          if (!gt) throw new Error("no table");
          const expected = new Map<number, number>();
          const writers = new Set<number>();
          for (const [, m] of grantMappingsOf(b)) {
            const mfn = gt.activeEntry(m.ref).mfn;
            const halves =
              (m.flags & GNTMAP_HOST_MAP ? 1 : 0) + (m.flags & GNTMAP_DEVICE_MAP ? 1 : 0);
            expected.set(mfn, (expected.get(mfn) ?? 0) + halves);
            if (!(m.flags & GNTMAP_READONLY) && m.flags & GNTMAP_HOST_MAP) writers.add(mfn);
          }
          for (const p of [...pages, bLocal]) expect(ft.refCount[p]).toBe(expected.get(p) ?? 0);
          for (const [, mapping] of space.pages) {
            if (ft.owner[mapping.mfn] === a.id && mapping.writable)
              expect(writers.has(mapping.mfn)).toBe(true);
          }
          // Pin counts match the live mappings of each reference; in v2 the status word
          // (which only the hypervisor writes here) says exactly what the pins say. Not
          // checked for the reserved entries: they carry over from v1 whatever the
          // granter left in their flags (as Xen's set_version does).
          for (const r of REF_IDS) {
            const live = grantMappingsOf(b).filter(([, m]) => m.ref === r);
            const pin = gt.activeEntry(r).pin;
            if (live.length === 0) expect(pin).toBe(0);
            if (gt.version === 2) {
              const st = machine.memory.read16(gt.statusAddress(r));
              const want =
                (pin ? GrantFlags.reading : 0) | (pin & 0x00ff00ff ? GrantFlags.writing : 0);
              if (r >= 8) expect(st & RW).toBe(want);
            }
          }
        }

        // Unmapping everything returns every count to zero.
        for (const [handle] of grantMappingsOf(b)) {
          const slot = hostAt.get(handle);
          const mt = grantMappingsOf(b).find(([h]) => h === handle)?.[1];
          if (!mt) continue;
          unmapGrant(b, {
            handle,
            host_addr: slot !== undefined ? MAP_VA + BigInt(slot * 4096) : 0n,
            dev_bus_addr: BigInt(grantTableOf(machine, a)?.activeEntry(mt.ref).mfn ?? 0) * 4096n,
          });
        }
        expect(grantMappingsOf(b)).toEqual([]);
        for (const p of [...pages, bLocal]) expect(ft.refCount[p]).toBe(0);
        for (const r of REF_IDS) expect(grantTableOf(machine, a)?.activeEntry(r).pin).toBe(0);
      }),
      { numRuns: 200, seed: 4242 },
    );
  });
});
