/**
 * Every conformance test of hvkit's own suite, in the order the matrix lists them. A test
 * written once for every arch is a file `tests/<area>/<name>.conformance.ts` exporting one
 * `ConformanceTest` (usually made by `agentTest`, driving the arch's guest agent), added to
 * {@link AGENT_TESTS}; our compiled guests' tests are listed in `compiled/index.ts`.
 *
 * @module
 */
import type { ConformanceTest } from "../conformance-test.js";
import { publishedSizes } from "./abi/published-sizes.conformance.js";
import { hypercallNumbers } from "./hypercall/numbers.conformance.js";
import { unknownEnosys } from "./hypercall/unknown-enosys.conformance.js";
import { hypercallPage } from "./hypercall/page.conformance.js";
import { hello } from "./boot/hello.conformance.js";
import { exitReboot } from "./boot/exit-reboot.conformance.js";
import { exitCrash } from "./boot/exit-crash.conformance.js";
import { trapHandlers } from "./traps/handlers.conformance.js";
import { faultNoHandler } from "./traps/fault-no-handler.conformance.js";
import { xenstoreRingProtocol } from "./xenstore/ring-protocol.conformance.js";
import { xenstoreDomainHome } from "./xenstore/domain-home.conformance.js";
import { consoleDomuRing } from "./console/domu-ring.conformance.js";
import { xenstoreControlShutdown } from "./xenstore/control-shutdown.conformance.js";
import { domctlToolstack } from "./domctl/toolstack.conformance.js";
import { domctlUnprivileged } from "./domctl/unprivileged.conformance.js";
import { domctlOps } from "./domctl/ops.conformance.js";
import { evtchnUpcall } from "./evtchn/upcall.conformance.js";
import { evtchnBlockWake } from "./evtchn/block-wake.conformance.js";
import { evtchnOps } from "./evtchn/ops.conformance.js";
import { evtchnDomu } from "./evtchn/domu.conformance.js";
import { evtchnInterdomain } from "./evtchn/interdomain.conformance.js";
import { evtchnInterdomainFrames } from "./evtchn/interdomain-frames.conformance.js";
import { grantCopy } from "./grant/copy.conformance.js";
import { grantOps } from "./grant/ops.conformance.js";
import { grantInterdomain } from "./grant/interdomain.conformance.js";
import { grantV2, grantV2Transitive } from "./grant/v2.conformance.js";
import { memoryBalloon } from "./memory/balloon.conformance.js";
import { memoryOps } from "./memory/ops.conformance.js";
import { memoryMaximumGpfn } from "./memory/maximum-gpfn.conformance.js";
import { vcpuIpiPingpong } from "./vcpu/ipi-pingpong.conformance.js";
import { vcpuOps } from "./vcpu/ops.conformance.js";
import { vcpuRegisterVcpuInfo } from "./vcpu/register-vcpu-info.conformance.js";
import { timeTimers } from "./time/timers.conformance.js";
import { timeOps } from "./time/ops.conformance.js";
import { timeVcpuTimeArea } from "./time/vcpu-time-area.conformance.js";
import { multicallOps } from "./multicall/ops.conformance.js";
import { multicallEntryFaults } from "./multicall/entry-faults.conformance.js";
import { pvMmu } from "./mmu/pv-mmu.conformance.js";
import { linearPt, linearPtOff } from "./mmu/linear-pt.conformance.js";
import { COMPILED_TESTS } from "./compiled/index.js";

/** The tests written once for every arch (guest set `hvkit-test`). */
export const AGENT_TESTS: readonly ConformanceTest[] = [
  publishedSizes,
  hypercallNumbers,
  unknownEnosys,
  hypercallPage,
  hello,
  exitReboot,
  exitCrash,
  trapHandlers,
  faultNoHandler,
  xenstoreRingProtocol,
  xenstoreDomainHome,
  consoleDomuRing,
  xenstoreControlShutdown,
  domctlToolstack,
  domctlUnprivileged,
  domctlOps,
  evtchnUpcall,
  evtchnBlockWake,
  evtchnOps,
  evtchnDomu,
  evtchnInterdomain,
  evtchnInterdomainFrames,
  grantCopy,
  grantOps,
  grantInterdomain,
  grantV2,
  grantV2Transitive,
  memoryBalloon,
  memoryOps,
  memoryMaximumGpfn,
  vcpuIpiPingpong,
  vcpuOps,
  vcpuRegisterVcpuInfo,
  timeTimers,
  timeOps,
  timeVcpuTimeArea,
  multicallOps,
  multicallEntryFaults,
  pvMmu,
  linearPt,
  linearPtOff,
];

/** The suite. */
export const CONFORMANCE_TESTS: readonly ConformanceTest[] = [...AGENT_TESTS, ...COMPILED_TESTS];
