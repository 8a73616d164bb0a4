/**
 * The single hypercall table: every hypercall number hvkit knows, its name, its handler,
 * which guest modes may call it and which XSM hook guards it (as Xen's
 * `hypercall-defs.c` declares them in one place).
 *
 * @module
 */
import type { Errno } from "./errno.js";
import type { ArchTypes, GuestMode } from "./arch-plugin.js";
import type { Domain } from "./domain.js";
import type { Machine } from "./machine.js";
import type { Vcpu } from "./vcpu.js";

/**
 * The argument registers of one hypercall (up to six), preallocated per vCPU so reading a
 * hypercall allocates nothing. Each argument is kept as two unsigned 32-bit halves; the
 * accessors give the views handlers need.
 */
export class HypercallArgs {
  /** `halves[2 * i]` is the low 32 bits of argument i, `halves[2 * i + 1]` the high. */
  readonly halves = new Uint32Array(12);

  /** Sets argument `i` from its 32-bit halves (arch hook use). */
  set(i: number, lo: number, hi: number): void {
    this.halves[2 * i] = lo >>> 0;
    this.halves[2 * i + 1] = hi >>> 0;
  }

  /** Argument `i` as an unsigned 32-bit value (C `unsigned int` arguments). */
  u32(i: number): number {
    return this.halves[2 * i];
  }

  /** Argument `i` as a signed 32-bit value (C `int` arguments). */
  i32(i: number): number {
    return this.halves[2 * i] | 0;
  }

  /** Argument `i` as an unsigned 64-bit bigint (guest pointers, `unsigned long`). */
  u64(i: number): bigint {
    return (BigInt(this.halves[2 * i + 1]) << 32n) | BigInt(this.halves[2 * i]);
  }

  /**
   * Argument `i` as a JavaScript number when it fits in 53 bits, else −1 (callers treat
   * −1 as out of range: counts and frame numbers that large are always invalid).
   */
  num(i: number): number {
    const hi = this.halves[2 * i + 1];
    if (hi >= 0x200000) return -1;
    return hi * 0x100000000 + this.halves[2 * i];
  }
}

/**
 * What a handler is given besides its arguments. `A`: the arch's state types, so an arch's
 * own handlers see `ctx.vcpu.arch` and `ctx.domain.arch` as the arch's types.
 */
export interface HypercallContext<A extends ArchTypes = ArchTypes> {
  /** The machine. */
  readonly machine: Machine<A>;
  /** The calling domain. */
  readonly domain: Domain<A>;
  /** The calling vCPU. */
  readonly vcpu: Vcpu<A>;
}

/**
 * A hypercall handler. Returns the value for the guest's result register: ≥ 0 on success,
 * `-Errno` on failure. It must validate every argument and must never throw for anything
 * a guest can pass; it reaches guest memory only through the core's guest-memory door.
 */
export type HypercallHandler<A extends ArchTypes = ArchTypes> = HypercallEntry<A>["handler"];

/** XSM hook points a hypercall is checked against (Xen's `xsm_*` names). */
export type XsmHook =
  | "none"
  | "console_io"
  | "domctl"
  | "sysctl"
  | "memory_op"
  | "evtchn"
  | "grant"
  | "sched_op"
  | "xen_version"
  | "mmu";

/**
 * One row of the hypercall table. An arch's rows are `HypercallEntry<A>`: their handlers
 * are only ever called by machines running that arch, with contexts of its types.
 */
export interface HypercallEntry<A extends ArchTypes = ArchTypes> {
  /** Xen's hypercall number (`__HYPERVISOR_*`). */
  readonly number: number;
  /** Xen's name for it, without prefix (e.g. `console_io`). */
  readonly name: string;
  /** The handler (see {@link HypercallHandler}). */
  handler(ctx: HypercallContext<A>, args: HypercallArgs): number | bigint;
  /** Guest modes allowed to make this call; others get −ENOSYS. */
  readonly modes: readonly GuestMode[];
  /** The XSM hook the dispatcher consults before calling the handler. */
  readonly xsm: XsmHook;
}

/**
 * Watches every hypercall the machine dispatches, after its handler has run: the hook a
 * tracer or a statistics collector hangs on (bound with `HYPERCALL_OBSERVERS`). A machine
 * with no observer bound pays nothing for the hook: the dispatcher calls the handler as it
 * would without it.
 *
 * Contract: the observer is called once per dispatched call, in order, on the run loop's
 * thread, with the very `args` the handler saw (valid only for the duration of the call;
 * a multicall reuses its argument buffer for the next entry). It must not throw, must
 * not change guest or machine state (it may read guest memory through the guest-memory
 * door, as a handler reading the same bytes would) and must not keep `args`.
 */
export interface HypercallObserver {
  /**
   * Hypercall `nr` made by `vcpu` with `args` returned `result` (≥ 0 success, −errno
   * failure: also −ENOSYS for a number absent from the table or refused in the caller's
   * mode, and the XSM hook's refusal). `depth` is 0 for a call the guest trapped with and
   * 1 for an entry of a multicall, which is reported before the multicall itself (whose
   * result comes only once its entries have run).
   */
  hypercall(
    vcpu: Vcpu,
    nr: number,
    args: HypercallArgs,
    result: number | bigint,
    depth: number,
  ): void;
}

/** A convenience for handlers: the negative of an errno. */
export function fail(e: Errno): number {
  return -e;
}
