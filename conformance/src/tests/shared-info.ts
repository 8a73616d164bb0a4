/**
 * What a kernel reads and writes in its shared_info page (xen.h `struct shared_info`),
 * done through the agent with the guest's own loads and stores, for tests written once for
 * every arch: the 2-level event-channel bitmaps (one bit per port in words of
 * `xen_ulong_t`, so `xenUlong × 8` ports a word), the wall clock, the vcpu_info slots, and
 * system time computed from a vcpu_time_info record and the arch's time counter as Xen's
 * pvclock readers do.
 *
 * The host reaches guest memory between the guest's requests, so a read-modify-write of a
 * bitmap word here is not atomic as a kernel's `lock and` is: a test clears or masks a
 * port only while no event can arrive for another port of the same word.
 *
 * @module
 */
import { SHARED_INFO, VCPU_INFO, VCPU_TIME_INFO, scaleDelta, type StructLayout } from "@hvkit/core";
import type { Agent } from "../agent.js";
import { ConformanceFailure } from "../conformance-test.js";

/** A vcpu_time_info record as read (xen.h `struct vcpu_time_info`). */
export interface TimeRecord {
  /** `version`: odd while Xen rewrites the record. */
  readonly version: number;
  /** `tsc_timestamp`: the time counter when `systemTime` was sampled. */
  readonly tscTimestamp: bigint;
  /** `system_time`: ns since the machine started, at `tscTimestamp`. */
  readonly systemTime: bigint;
  /** `tsc_to_system_mul`: 32.32 fixed-point ns per (shifted) tick. */
  readonly mul: number;
  /** `tsc_shift`: left shift of a tick delta (right when negative). */
  readonly shift: number;
  /** `flags`: XEN_PVCLOCK_* bits. */
  readonly flags: number;
}

/** The wall clock of shared_info: the time of day at system time 0. */
export interface WallClock {
  /** `wc_version` (even once read consistently). */
  readonly version: number;
  /** Seconds since the Unix epoch: `wc_sec` with `wc_sec_hi` above it. */
  readonly sec: bigint;
  /** `wc_sec_hi` alone. */
  readonly secHi: number;
  /** `wc_nsec`. */
  readonly nsec: number;
}

/** The event-delivery fields of a vcpu_info (xen.h `struct vcpu_info`). */
export interface VcpuEvents {
  /** `evtchn_upcall_pending`. */
  readonly upcallPending: number;
  /** `evtchn_upcall_mask`. */
  readonly upcallMask: number;
  /** `evtchn_pending_sel`: bit i for pending word i. */
  readonly pendingSel: bigint;
}

/** How many times a reader retries a record Xen is rewriting before giving up. */
const MAX_RETRIES = 16;

/** The agent's shared_info, as its kernel sees it. */
export class GuestSharedInfo {
  /** Where the agent mapped shared_info. */
  readonly va: bigint;
  private readonly layout: StructLayout;
  private readonly info: StructLayout;
  private readonly time: StructLayout;
  private readonly wordBytes: 4 | 8;

  /** @param agent - the booted agent. */
  constructor(readonly agent: Agent) {
    this.va = agent.boot.sharedInfo;
    this.layout = SHARED_INFO.layout(agent.arch.dataModel);
    this.info = VCPU_INFO.layout(agent.arch.dataModel);
    this.time = VCPU_TIME_INFO.layout(agent.arch.dataModel);
    this.wordBytes = agent.model.xenUlong;
  }

  /** Ports per bitmap word (`sizeof(xen_ulong_t) × 8`). */
  get portsPerWord(): number {
    return this.wordBytes * 8;
  }

  /** The bit of `evtchn_pending_sel` that stands for `port`'s bitmap word. */
  selectorBit(port: number): bigint {
    return 1n << BigInt(Math.floor(port / this.portsPerWord));
  }

  /** vCPU `id`'s vcpu_info slot in shared_info (ids below XEN_LEGACY_MAX_VCPUS). */
  vcpuInfo(id: number): bigint {
    return this.va + BigInt(this.layout.offsetOf(`vcpu_info.${id}`));
  }

  /** Whether `port`'s bit in `evtchn_pending` is set (read on vCPU `vcpu`). */
  pending(port: number, vcpu = 0): boolean {
    return this.bit("evtchn_pending", port, vcpu);
  }

  /** Clears `port`'s pending bit, as a kernel does once it has seen the event. */
  clearPending(port: number, vcpu = 0): void {
    this.setBit("evtchn_pending", port, false, vcpu);
  }

  /** Whether `port`'s bit in `evtchn_mask` is set. */
  masked(port: number, vcpu = 0): boolean {
    return this.bit("evtchn_mask", port, vcpu);
  }

  /** Sets or clears `port`'s mask bit (the guest owns `evtchn_mask`). */
  setMasked(port: number, masked: boolean, vcpu = 0): void {
    this.setBit("evtchn_mask", port, masked, vcpu);
  }

  /** Masks every port, as a kernel does before it binds any (no event raises an upcall). */
  maskAll(vcpu = 0): void {
    const slot = this.layout.slot("evtchn_mask");
    this.agent.write(this.va + BigInt(slot.offset), new Uint8Array(slot.size).fill(0xff), vcpu);
  }

  /** The event fields of the vcpu_info at `vcpuInfo` (in shared_info or where it was moved). */
  vcpuEvents(vcpuInfo: bigint, vcpu = 0): VcpuEvents {
    const r = this.agent.readStruct(VCPU_INFO, vcpuInfo, vcpu);
    return {
      upcallPending: r.getNumber("evtchn_upcall_pending"),
      upcallMask: r.getNumber("evtchn_upcall_mask"),
      pendingSel: r.getBigInt("evtchn_pending_sel"),
    };
  }

  /** Writes `evtchn_upcall_mask` of the vcpu_info at `vcpuInfo` (1: no upcalls). */
  setUpcallMask(vcpuInfo: bigint, mask: number, vcpu = 0): void {
    this.agent.writeUint(
      vcpuInfo + BigInt(this.info.offsetOf("evtchn_upcall_mask")),
      1,
      mask,
      vcpu,
    );
  }

  /**
   * Clears `evtchn_pending_sel` and `evtchn_upcall_pending` of the vcpu_info at `vcpuInfo`,
   * as a kernel's upcall handler does once it has scanned the selector.
   */
  clearVcpuEvents(vcpuInfo: bigint, vcpu = 0): void {
    const sel = this.info.slot("evtchn_pending_sel");
    this.agent.writeUint(vcpuInfo + BigInt(sel.offset), this.wordBytes, 0, vcpu);
    this.agent.writeUint(
      vcpuInfo + BigInt(this.info.offsetOf("evtchn_upcall_pending")),
      1,
      0,
      vcpu,
    );
  }

  /**
   * The wall clock, read with its version protocol (re-read while `wc_version` is odd or
   * changes).
   */
  wallClock(vcpu = 0): WallClock {
    const hiPath = this.layout.paths().includes("wc_sec_hi") ? "wc_sec_hi" : "arch.wc_sec_hi";
    const from = this.layout.offsetOf("wc_version");
    const to = Math.max(this.layout.offsetOf(hiPath) + 4, this.layout.offsetOf("wc_nsec") + 4);
    for (let i = 0; i < MAX_RETRIES; i++) {
      const bytes = new Uint8Array(to);
      bytes.set(this.agent.read(this.va + BigInt(from), to - from, vcpu), from);
      const view = new DataView(bytes.buffer);
      const version = this.layout.getNumber(view, 0, "wc_version");
      const again = Number(this.agent.readUint(this.va + BigInt(from), 4, vcpu));
      if ((version & 1) !== 0 || again !== version) continue;
      const secHi = this.layout.getNumber(view, 0, hiPath);
      return {
        version,
        sec: (BigInt(secHi) << 32n) | BigInt(this.layout.getNumber(view, 0, "wc_sec")),
        secHi,
        nsec: this.layout.getNumber(view, 0, "wc_nsec"),
      };
    }
    throw new ConformanceFailure(
      `wc_version stayed odd or kept changing over ${MAX_RETRIES} reads`,
    );
  }

  /** The vcpu_time_info of the vcpu_info at `vcpuInfo`, as it is now (no version check). */
  timeRecord(vcpuInfo: bigint, vcpu = 0): TimeRecord {
    const at = vcpuInfo + BigInt(this.info.offsetOf("time"));
    const bytes = this.agent.read(at, this.time.size, vcpu);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const t = this.time;
    return {
      version: t.getNumber(view, 0, "version"),
      tscTimestamp: t.getBigInt(view, 0, "tsc_timestamp"),
      systemTime: t.getBigInt(view, 0, "system_time"),
      mul: t.getNumber(view, 0, "tsc_to_system_mul"),
      shift: t.getNumber(view, 0, "tsc_shift"),
      flags: t.getNumber(view, 0, "flags"),
    };
  }

  /**
   * System time (ns) as vCPU `vcpu` computes it from the record in the vcpu_info at
   * `vcpuInfo` and its time counter, with the version protocol (xen.h): `system_time +
   * ((counter − tsc_timestamp) << tsc_shift) × tsc_to_system_mul >> 32`, retried while
   * the version is odd or changes across the counter read.
   */
  systemTime(vcpuInfo: bigint, vcpu = 0): bigint {
    const versionAt = vcpuInfo + BigInt(this.info.offsetOf("time.version"));
    for (let i = 0; i < MAX_RETRIES; i++) {
      const r = this.timeRecord(vcpuInfo, vcpu);
      if ((r.version & 1) !== 0) continue;
      const counter = this.agent.vcpu(vcpu).timestamp();
      if (Number(this.agent.readUint(versionAt, 4, vcpu)) !== r.version) continue;
      return (
        r.systemTime + scaleDelta(counter - r.tscTimestamp, { mulFrac: r.mul, shift: r.shift })
      );
    }
    throw new ConformanceFailure(
      `vcpu_time_info.version stayed odd or kept changing over ${MAX_RETRIES} reads`,
    );
  }

  private word(bitmap: string, port: number): { va: bigint; bit: bigint } {
    const perWord = this.portsPerWord;
    const index = Math.floor(port / perWord);
    return {
      va: this.va + BigInt(this.layout.offsetOf(`${bitmap}.${index}`)),
      bit: 1n << BigInt(port % perWord),
    };
  }

  private bit(bitmap: string, port: number, vcpu: number): boolean {
    const w = this.word(bitmap, port);
    return (this.agent.readUint(w.va, this.wordBytes, vcpu) & w.bit) !== 0n;
  }

  private setBit(bitmap: string, port: number, value: boolean, vcpu: number): void {
    const w = this.word(bitmap, port);
    const old = this.agent.readUint(w.va, this.wordBytes, vcpu);
    const next = value ? old | w.bit : old & ~w.bit;
    if (next !== old) this.agent.writeUint(w.va, this.wordBytes, next, vcpu);
  }
}
