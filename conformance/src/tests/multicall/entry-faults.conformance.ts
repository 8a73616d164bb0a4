/**
 * A multicall stops with −EFAULT at the first entry it cannot read or write back
 * (xen/common/multicall.c `do_multicall`), with what came before it done:
 *
 * - the list's last entry on a page whose next page is unmapped: the first entry runs and
 *   its result is written, then reading the second fails: −EFAULT;
 * - the list on a read-only page: the first entry's call runs (here an EVTCHNOP_send, so
 *   its port turns pending), then copying its result back (`__copy_field_to_guest`)
 *   fails: −EFAULT, the result not written and the second entry not run.
 *
 * Unmapping and mapping read-only use the guest's frames (feature `frames`). Both faults
 * come from Xen's copies honouring the guest's own mappings, as x86's copy_from_guest /
 * copy_to_guest do on a virtual address (feature `virtual-hypercall-copies`); where guest
 * handles are physical (xencomm: xen/common/xencomm.c copies by guest-physical address,
 * page by page, whatever the guest's page table says), neither fault exists.
 */
import {
  EVTCHN_SEND,
  Errno,
  EventChannelOp,
  Hypercall,
  MULTICALL_ENTRY,
  XenVersionOp,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { EventChannels } from "../../event-channels.js";
import { RESULT_SENTINEL, multicallBytes, multicallResults } from "./batch.js";

/** multicall/entry-faults. */
export const multicallEntryFaults = agentTest({
  area: "multicall",
  name: "entry-faults",
  description:
    "a multicall entry that cannot be read, or whose result cannot be written back, ends the batch with -EFAULT after what came before it ran",
  requires: { modes: ["pv"], features: ["frames", "frame-mapping", "virtual-hypercall-copies"] },
  run(agent, check) {
    const page = BigInt(agent.pageSize);
    const entrySize = BigInt(MULTICALL_ENTRY.layout(agent.arch.dataModel).size);
    const version = agent.hypercall(Hypercall.xen_version, XenVersionOp.version, 0);
    const xenVersion = { op: Hypercall.xen_version, args: [XenVersionOp.version, 0] };
    const window = agent.boot.window;

    // An entry at the end of a page, the next page unmapped.
    const next = window + page;
    const nextFrame = agent.frameOf(next);
    const edge = next - entrySize;
    agent.write(edge, multicallBytes(agent, [xenVersion]));
    check.equal("unmapping the page after the first entry", agent.mapFrame(next, null, false), 0);
    check.equal(
      "multicall whose second entry is unreadable",
      agent.hypercall(Hypercall.multicall, agent.handle(edge), 2),
      -Errno.EFAULT,
    );
    check.equal(
      "the first entry ran before the unreadable one",
      multicallResults(agent, edge, 1)[0],
      version,
    );
    agent.mapFrame(next, nextFrame, true);

    // Entries in a read-only page: the first call runs, its result cannot be copied back.
    const events = new EventChannels(agent);
    events.maskAll();
    const first = events.bindIpi(0).port;
    const second = events.bindIpi(0).port;
    const send = (port: number): { op: number; args: bigint[] } => ({
      op: Hypercall.event_channel_op,
      args: [BigInt(EventChannelOp.send), agent.handle(agent.placeStruct(EVTCHN_SEND, { port }))],
    });
    const ro = window;
    const roFrame = agent.frameOf(ro);
    agent.write(ro, multicallBytes(agent, [send(first), send(second)]));
    check.equal("mapping the list's page read-only", agent.mapFrame(ro, roFrame, false), 0);
    check.equal(
      "multicall whose result cannot be written back",
      agent.hypercall(Hypercall.multicall, agent.handle(ro), 2),
      -Errno.EFAULT,
    );
    agent.mapFrame(ro, roFrame, true);
    check.equal(
      "the read-only entry's call ran (its port is pending)",
      events.pending(first),
      true,
    );
    check.equal("its result is not written", multicallResults(agent, ro, 1)[0], RESULT_SENTINEL);
    check.equal(
      "the batch stopped there (the next port not pending)",
      events.pending(second),
      false,
    );
  },
});
