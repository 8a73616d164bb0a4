/**
 * VCPUOP_register_vcpu_info, which names a vcpu_info's new home by frame and offset (so
 * it needs the guest's frames: feature `frames`), on a domain with one vCPU more than
 * shared_info has vcpu_info slots:
 *
 * - For that last vCPU (no slot): initialise −EINVAL until it has a vcpu_info
 *   (`common_vcpu_op`, the dummy vcpu_info); register_vcpu_info: an unreadable argument
 *   −EFAULT; `mfn << PAGE_SHIFT + offset` overflowing (its gfn no longer the mfn) −EINVAL;
 *   `map_guest_area`: crossing the page end or not xen_ulong-aligned −ENXIO; a frame the
 *   PV domain does not own (`check_get_page_from_gfn`) −EINVAL; a frame that cannot take
 *   PGT_writable_page (one of the guest's page tables, where Xen validates them: feature
 *   `pv-mmu-radix`) −EACCES; then success: `vcpu_info_populate` zeroes the new area from
 *   the dummy with evtchn_upcall_mask 1, sets evtchn_pending_sel to ~0 and upcall_pending
 *   (`vcpu_mark_events_pending`) and refreshes the time record, touching nothing around
 *   it; a second registration −EBUSY; initialise now succeeds.
 * - On the running vCPU 0: the old vcpu_info is copied to the new area (upcall mask 1),
 *   every selector bit set, the time record refreshed there; from then on events and time
 *   updates go to the new area only (VIRQ_TIMER's selector bit and upcall_pending land
 *   there, the old shared_info slot stays clear, system time from the moved record matches
 *   the timer's deadline); a second registration −EBUSY.
 *
 * Sources: xen/common/domain.c (`common_vcpu_op`, `map_guest_area`, `vcpu_info_populate`),
 * xen/include/public/vcpu.h (`struct vcpu_register_vcpu_info`), xen.h.
 */
import {
  Errno,
  Hypercall,
  MemoryOp,
  START_INFO,
  VCPU_INFO,
  VCPU_REGISTER_VCPU_INFO,
  VcpuOp,
  Virq,
  type StructRef,
} from "@hvkit/core";
import { agentTest } from "../agent-test.js";
import { GuestVcpus } from "../guest-vcpus.js";
import { EventChannels } from "../../event-channels.js";

const US = 1000n;
const MS = 1_000_000n;

/** vcpu/register-vcpu-info. */
export const vcpuRegisterVcpuInfo = agentTest({
  area: "vcpu",
  name: "register-vcpu-info",
  description:
    "VCPUOP_register_vcpu_info: each error path, the new area's contents, and events and time following a moved vcpu_info",
  requires: { modes: ["pv"], features: ["frames"] },
  boot: (ctx) => ({ vcpus: ctx.arch.dataModel.legacyMaxVcpus + 1 }),
  run(agent, check, ctx) {
    const last = agent.arch.dataModel.legacyMaxVcpus;
    const events = new EventChannels(agent);
    const vcpus = new GuestVcpus(agent);
    const pageShift = BigInt(Math.log2(agent.pageSize));
    const infoSize = VCPU_INFO.layout(agent.arch.dataModel).size;
    const infoLayout = VCPU_INFO.layout(agent.arch.dataModel);
    const sel = infoLayout.slot("evtchn_pending_sel");
    /** The vcpu_info at `va` as it is now. */
    const vcpuInfoAt = (va: bigint): StructRef => agent.readStruct(VCPU_INFO, va);
    const allSelectors = (1n << BigInt(sel.size * 8)) - 1n;
    const frameOf = (va: bigint): bigint => agent.frameOf(va);
    const ctxVa = agent.place(agent.spec.secondaryVcpuContext(agent, last), 16);
    const register = (id: number, mfn: bigint, offset: number): bigint =>
      vcpus.op(
        VcpuOp.register_vcpu_info,
        id,
        agent.handle(agent.placeStruct(VCPU_REGISTER_VCPU_INFO, { mfn, offset })),
      );

    // The vCPU past shared_info's slots.
    check.equal(
      `initialise(${last}) without a vcpu_info`,
      vcpus.op(VcpuOp.initialise, last, agent.handle(ctxVa)),
      -Errno.EINVAL,
    );
    const infoPage = agent.alloc(agent.pageSize, agent.pageSize);
    const mine = frameOf(infoPage);
    check.equal(
      "register_vcpu_info from an unmapped argument",
      vcpus.op(VcpuOp.register_vcpu_info, last, agent.handle(agent.spec.unmappedAddress(agent))),
      -Errno.EFAULT,
    );
    check.equal(
      "register_vcpu_info crossing the page end",
      register(last, mine, agent.pageSize - 32),
      -Errno.ENXIO,
    );
    check.equal(
      "register_vcpu_info not xen_ulong-aligned",
      register(last, mine, 64 + agent.model.xenUlong / 2),
      -Errno.ENXIO,
    );
    check.equal(
      "register_vcpu_info whose address overflows",
      register(last, 1n << (64n - pageShift), 64),
      -Errno.EINVAL,
    );
    const maxPage = agent.hypercall(Hypercall.memory_op, MemoryOp.maximum_ram_page, 0);
    check.equal(
      "register_vcpu_info on a frame beyond memory",
      register(last, maxPage + 1n, 64),
      -Errno.EINVAL,
    );
    if (ctx.features.has("pv-mmu-radix")) {
      const ptBase = agent.readStruct(START_INFO, agent.boot.startInfo).getBigInt("pt_base");
      check.equal(
        "register_vcpu_info on a page-table frame",
        register(last, frameOf(ptBase), 64),
        -Errno.EACCES,
      );
    }
    agent.write(infoPage, new Uint8Array(agent.pageSize).fill(0x5a));
    check.equal(`register_vcpu_info(${last})`, register(last, mine, 64), 0);
    const area = infoPage + 64n;
    const ev = vcpuInfoAt(area);
    check.equal("the new area: upcall mask 1", ev.getNumber("evtchn_upcall_mask"), 1);
    check.equal("the new area: upcall_pending set", ev.getNumber("evtchn_upcall_pending"), 1);
    check.equal(
      "the new area: every selector bit set",
      ev.getBigInt("evtchn_pending_sel"),
      allSelectors,
    );
    check.equal("the new area: time version even", ev.getNumber("time.version") & 1, 0);
    const mul = ev.getNumber("time.tsc_to_system_mul");
    check.that("the new area: time record filled", mul !== 0, mul);
    check.equal("the byte before the area untouched", agent.readUint(area - 1n, 1), 0x5a);
    check.equal(
      "the byte after the area untouched",
      agent.readUint(area + BigInt(infoSize), 1),
      0x5a,
    );
    check.equal("register_vcpu_info twice", register(last, mine, 256), -Errno.EBUSY);
    check.equal(
      `initialise(${last}) with a registered vcpu_info`,
      vcpus.op(VcpuOp.initialise, last, agent.handle(ctxVa)),
      0,
    );

    // vCPU 0 moves its own vcpu_info while running.
    events.maskAll();
    const port = events.bindVirq(Virq.timer, 0).port;
    const oldVersion = vcpuInfoAt(agent.vcpuInfo(0)).getNumber("time.version");
    const movedPage = agent.alloc(agent.pageSize, agent.pageSize);
    const moved = movedPage + 128n;
    check.equal("register_vcpu_info(0) while running", register(0, frameOf(movedPage), 128), 0);
    agent.setVcpuInfo(0, moved);
    const mev = vcpuInfoAt(moved);
    check.equal("the old area copied (upcall mask 1)", mev.getNumber("evtchn_upcall_mask"), 1);
    check.equal(
      "every selector bit set in the moved area",
      mev.getBigInt("evtchn_pending_sel"),
      allSelectors,
    );
    const movedVersion = mev.getNumber("time.version");
    check.that(
      "the moved time record refreshed",
      (movedVersion & 1) === 0 &&
        movedVersion >= oldVersion &&
        mev.getNumber("time.tsc_to_system_mul") !== 0,
      movedVersion,
    );
    // Clear the pending bits in both areas (the old one is shared_info's slot 0).
    events.clearPending(port);
    agent.writeUint(moved + BigInt(sel.offset), agent.model.xenUlong, 0);
    agent.writeUint(moved + BigInt(infoLayout.offsetOf("evtchn_upcall_pending")), 1, 0);
    events.clearVcpuBits(0);
    events.clearMask(port);
    const deadline = agent.systemTime() + MS;
    vcpus.singleshot(0, deadline);
    events.pollUntil(port, 0n);
    const after = vcpuInfoAt(moved);
    const oldSelector = events.selector(0);
    const oldUpcallPending = events.upcallPending(0);
    events.clearPending(port);
    const woke = agent.systemTime();
    check.equal(
      "VIRQ_TIMER after the move: selector bit in the new area",
      (after.getBigInt("evtchn_pending_sel") & events.selectorBit(port)) !== 0n,
      true,
    );
    check.equal(
      "VIRQ_TIMER after the move: upcall_pending in the new area",
      after.getNumber("evtchn_upcall_pending"),
      1,
    );
    check.equal(
      "VIRQ_TIMER after the move: old shared_info slot untouched",
      oldSelector === 0n && oldUpcallPending === 0,
      true,
    );
    check.that(
      "system time from the moved record at the deadline (within 20 us)",
      woke >= deadline && woke - deadline < 20n * US,
      woke - deadline,
    );
    check.equal("register_vcpu_info(0) again", register(0, frameOf(movedPage), 128), -Errno.EBUSY);
    events.mask(port);
  },
});
