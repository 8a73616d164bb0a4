/**
 * Every arch's machine merges one hypercall table in which the common hypercalls sit at
 * Xen's numbers (xen.h: __HYPERVISOR_console_io 18, sched_op 29, xen_version 17,
 * event_channel_op 32, memory_op 12) and an unassigned number (60) has no entry, so it
 * returns -ENOSYS. On a port whose `hypercalls()` hook is still a stub this cell is an
 * ERROR naming the hook: the first thing a new port implements.
 */
import { createMachine } from "@hvkit/core";
import { ConformanceFailure, success, type ConformanceTest } from "../../conformance-test.js";

const COMMON: readonly (readonly [number, string])[] = [
  [12, "memory_op"],
  [17, "xen_version"],
  [18, "console_io"],
  [29, "sched_op"],
  [32, "event_channel_op"],
];

/** hypercall/table. */
export const hypercallTable: ConformanceTest = {
  area: "hypercall",
  name: "table",
  description:
    "the machine's hypercall table has the common hypercalls at Xen's numbers and nothing at 60",
  requires: { guests: ["hvkit-test"] },
  run(ctx) {
    const machine = createMachine(ctx.container, { arch: ctx.arch });
    const wrong = COMMON.filter(([nr, name]) => machine.hypercalls[nr]?.name !== name).map(
      ([nr, name]) => `${nr} should be ${name}, is ${machine.hypercalls[nr]?.name ?? "empty"}`,
    );
    if (machine.hypercalls[60] !== undefined)
      wrong.push(`60 should be empty, is ${machine.hypercalls[60].name}`);
    if (wrong.length > 0) throw new ConformanceFailure(wrong.join("; "));
    return success(
      `${machine.hypercalls.filter((e) => e !== undefined).length} hypercalls in the table`,
    );
  },
};
