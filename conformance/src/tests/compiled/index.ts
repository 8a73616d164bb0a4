/**
 * Our compiled test guests' tests (guest set `hvkit-c`): each boots a C or assembly guest
 * built for the cell's arch by `conformance/guests/build.sh` and checks what it printed and
 * how it ended. An arch with no compiled guests gives UNSUPPORTED cells here; its behaviour
 * is checked by the tests written once for every arch (`../index.ts`).
 *
 * @module
 */
import type { ConformanceTest } from "../../conformance-test.js";
import { hello } from "./boot/hello.conformance.js";
import { exitReboot } from "./boot/exit-reboot.conformance.js";
import { exitCrash } from "./boot/exit-crash.conformance.js";
import { cGuest } from "./boot/c-guest.conformance.js";
import { cSimd } from "./boot/c-simd.conformance.js";
import { cX87 } from "./boot/c-x87.conformance.js";
import { faultNoHandler } from "./traps/fault-no-handler.conformance.js";
import { trapHandlers } from "./traps/handlers.conformance.js";
import { privilegedOps } from "./traps/privileged-ops.conformance.js";
import { segmentDescriptors } from "./segments/descriptors.conformance.js";
import { hypercallPage } from "./hypercall/page.conformance.js";
import { unknownEnosys } from "./hypercall/unknown-enosys.conformance.js";
import { pvMmu } from "./mmu/pv-mmu.conformance.js";
import { memoryBalloon } from "./memory/balloon.conformance.js";
import { evtchnUpcall } from "./evtchn/upcall.conformance.js";
import { vcpuIpiPingpong } from "./vcpu/ipi-pingpong.conformance.js";
import { timeTimers } from "./time/timers.conformance.js";
import { evtchnBlockWake } from "./evtchn/block-wake.conformance.js";
import { grantCopy } from "./grant/copy.conformance.js";
import { domctlToolstack } from "./domctl/toolstack.conformance.js";
import { evtchnOps } from "./evtchn/ops.conformance.js";
import { grantOps } from "./grant/ops.conformance.js";
import { evtchnInterdomain } from "./evtchn/interdomain.conformance.js";
import { evtchnDomu } from "./evtchn/domu.conformance.js";
import { grantInterdomain } from "./grant/interdomain.conformance.js";
import { memoryOps } from "./memory/ops.conformance.js";
import { vcpuOps } from "./vcpu/ops.conformance.js";
import { timeOps } from "./time/ops.conformance.js";
import { multicallOps } from "./multicall/ops.conformance.js";
import { consoleDomuRing } from "./console/domu-ring.conformance.js";
import { domctlOps } from "./domctl/ops.conformance.js";
import { domctlUnprivileged } from "./domctl/unprivileged.conformance.js";

/** The compiled-guest tests, in matrix order. */
export const COMPILED_TESTS: readonly ConformanceTest[] = [
  hello,
  exitReboot,
  exitCrash,
  faultNoHandler,
  trapHandlers,
  hypercallPage,
  unknownEnosys,
  pvMmu,
  memoryBalloon,
  cGuest,
  evtchnUpcall,
  vcpuIpiPingpong,
  timeTimers,
  evtchnBlockWake,
  grantCopy,
  domctlToolstack,
  evtchnOps,
  grantOps,
  evtchnInterdomain,
  evtchnDomu,
  grantInterdomain,
  memoryOps,
  vcpuOps,
  timeOps,
  multicallOps,
  consoleDomuRing,
  domctlOps,
  domctlUnprivileged,
  privilegedOps,
  segmentDescriptors,
  cSimd,
  cX87,
];
