/**
 * XENMEM_maximum_gpfn for x86 PV guests (xen/arch/x86/mm.c `domain_get_maximum_gpfn`):
 * a PV guest keeps its own p2m, so Xen answers with what the guest publishes about it,
 * shared_info's `arch.max_pfn` (the number of p2m entries, "nr_pfns rather than
 * max_pfn", hence less one), read in the guest's shared_info layout
 * (`arch_get_max_pfn`). While the guest has not written it (0, as every domain builder
 * leaves it) the answer is 0: `(max_pfn ?: 1) - 1`.
 *
 * @module
 */
import { SHARED_INFO, type Domain, type Machine } from "@hvkit/core";

/**
 * `domain_get_maximum_gpfn` of a PV `domain`: `(arch.max_pfn ?: 1) - 1` as an unsigned
 * long of the guest's width. A domain without a shared_info page yet (created by the
 * toolstack, not built) reads as max_pfn 0, as Xen's freshly cleared page does.
 */
export function pvMaximumGpfn(machine: Machine, domain: Domain): bigint {
  if (domain.sharedInfoMfn < 0) return 0n;
  const model = machine.arch.dataModel;
  const layout = SHARED_INFO.layout(model);
  const pa = domain.sharedInfoMfn * machine.memory.pageSize + layout.offsetOf("arch.max_pfn");
  const maxPfn =
    layout.sizeOf("arch.max_pfn") === 8
      ? machine.memory.read64(pa)
      : BigInt(machine.memory.read32(pa));
  return maxPfn === 0n ? 0n : maxPfn - 1n;
}
