/**
 * The wall clock of shared_info as a kernel reads it (xen.h `struct shared_info`:
 * `wc_version`, `wc_sec`, `wc_nsec`, `wc_sec_hi`): the time of day at system time 0,
 * re-read while `wc_version` is odd (Xen is rewriting it) or changed under the read.
 *
 * @module
 */
import { SHARED_INFO } from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { ConformanceFailure } from "../../conformance-test.js";

/** The wall clock as read. */
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

/** Reads the wall clock tried this many times before a version that never settles fails. */
const MAX_READS = 16;

/**
 * Reads the agent's wall clock with the version protocol. `wc_sec_hi` is where the data
 * model puts it (x86_32 keeps it in the arch part).
 */
export function readWallClock(agent: Agent): WallClock {
  const layout = SHARED_INFO.layout(agent.arch.dataModel);
  const hi = layout.paths().includes("wc_sec_hi") ? "wc_sec_hi" : "arch.wc_sec_hi";
  const at = (path: string): bigint => agent.boot.sharedInfo + BigInt(layout.offsetOf(path));
  for (let i = 0; i < MAX_READS; i++) {
    const version = Number(agent.readUint(at("wc_version"), 4));
    const sec = agent.readUint(at("wc_sec"), 4);
    const nsec = Number(agent.readUint(at("wc_nsec"), 4));
    const secHi = Number(agent.readUint(at(hi), 4));
    if ((version & 1) !== 0 || Number(agent.readUint(at("wc_version"), 4)) !== version) continue;
    return { version, sec: (BigInt(secHi) << 32n) | sec, secHi, nsec };
  }
  throw new ConformanceFailure(`wc_version stayed odd or kept changing over ${MAX_READS} reads`);
}
