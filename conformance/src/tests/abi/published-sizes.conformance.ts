/**
 * The struct sizes Xen's public headers imply for each data model (from the headers'
 * layouts; e.g. start_info's 1024-byte cmd_line and trailing p2m fields give 1168 bytes
 * on LP64 and 1112 on ILP32 x86). A guest and the hypervisor that disagree on one of these
 * sizes corrupt each other's memory, so each cell checks the layouts of its arch's model.
 */
import {
  BLKIF_REQUEST,
  SRING_HEADER,
  START_INFO,
  VCPU_GUEST_CONTEXT_X86,
  VCPU_INFO,
  VCPU_TIME_INFO,
  type DataModelName,
  type StructDef,
} from "@hvkit/core";
import { ConformanceFailure, success, type ConformanceTest } from "../../conformance-test.js";

const PUBLISHED: Readonly<Record<DataModelName, readonly (readonly [StructDef, number])[]>> = {
  x86_64: [
    [START_INFO, 1168],
    [SRING_HEADER, 64],
    [BLKIF_REQUEST, 112],
    [VCPU_GUEST_CONTEXT_X86, 5168],
    [VCPU_INFO, 64],
    [VCPU_TIME_INFO, 32],
  ],
  x86_32: [
    [START_INFO, 1112],
    [SRING_HEADER, 64],
    [BLKIF_REQUEST, 108],
    [VCPU_GUEST_CONTEXT_X86, 2800],
    [VCPU_INFO, 64],
    [VCPU_TIME_INFO, 32],
  ],
  ia64: [
    [START_INFO, 1168],
    [SRING_HEADER, 64],
    [BLKIF_REQUEST, 112],
    [VCPU_TIME_INFO, 32],
  ],
  ppc64: [
    [START_INFO, 1168],
    [SRING_HEADER, 64],
    [BLKIF_REQUEST, 112],
    [VCPU_TIME_INFO, 32],
  ],
};

/** Published ABI struct sizes hold for the cell's data model. */
export const publishedSizes: ConformanceTest = {
  area: "abi",
  name: "published-sizes",
  description:
    "start_info, the shared ring header, blkif_request, vcpu_guest_context and vcpu_info have their published sizes",
  requires: { guests: ["hvkit-test"] },
  run(ctx) {
    const model = ctx.arch.dataModel;
    const wrong = PUBLISHED[model]
      .map(([def, size]) => [def.name, def.layout(model).size, size] as const)
      .filter(([, got, want]) => got !== want);
    if (wrong.length > 0) {
      throw new ConformanceFailure(
        wrong
          .map(([name, got, want]) => `${name} is ${got} bytes on ${model}, published ${want}`)
          .join("; "),
      );
    }
    return success(`${PUBLISHED[model].length} struct sizes on ${model}`);
  },
};
