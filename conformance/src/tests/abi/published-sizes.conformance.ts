/**
 * The struct sizes Xen's public headers imply for the cell's data model: the sizes every
 * model shares (the shared ring header, vcpu_time_info) and those the arch's own model
 * declares as published (`DataModel.publishedSizes`: e.g. start_info's 1024-byte cmd_line
 * and trailing p2m fields give 1168 bytes on LP64 and 1112 on ILP32 x86). A guest and the
 * hypervisor that disagree on one of these sizes corrupt each other's memory, so each cell
 * checks the layouts of its arch's model — and is an ERROR naming
 * `dataModel.publishedSizes` for a model that publishes none.
 */
import {
  ArchHookMissingError,
  SRING_HEADER,
  VCPU_TIME_INFO,
  type PublishedSize,
} from "@hvkit/core";
import { ConformanceFailure, success, type ConformanceTest } from "../../conformance-test.js";

/** Sizes that are the same in every data model (io/ring.h pads the header to 64 bytes). */
const COMMON: readonly PublishedSize[] = [
  { struct: SRING_HEADER, size: 64 },
  { struct: VCPU_TIME_INFO, size: 32 },
];

/** Published ABI struct sizes hold for the cell's data model. */
export const publishedSizes: ConformanceTest = {
  area: "abi",
  name: "published-sizes",
  description:
    "the shared ring header, vcpu_time_info and the structs whose sizes the arch's headers publish (start_info, blkif_request, vcpu_guest_context, vcpu_info ...) have those sizes",
  requires: { guests: ["hvkit-test"] },
  run(ctx) {
    const model = ctx.arch.dataModel;
    // The shared sizes alone hold for any model: a port that declares none of its own has
    // not been checked at all, and must not look green.
    if (model.publishedSizes.length === 0) {
      throw new ArchHookMissingError(ctx.arch.name, "dataModel.publishedSizes");
    }
    const checked = [...COMMON, ...model.publishedSizes];
    const wrong = checked
      .map(({ struct, size }) => [struct.name, struct.layout(model).size, size] as const)
      .filter(([, got, want]) => got !== want);
    if (wrong.length > 0) {
      throw new ConformanceFailure(
        wrong
          .map(([name, got, want]) => `${name} is ${got} bytes on ${model.name}, published ${want}`)
          .join("; "),
      );
    }
    return success(`${checked.length} struct sizes on ${model.name}`);
  },
};
