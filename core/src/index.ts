/**
 * `@hvkit/core`: the architecture-neutral hypervisor core.
 *
 * @packageDocumentation
 */
export * from "./errno.js";
export * from "./arch-plugin.js";
export * from "./profile-counts.js";
export * from "./agent.js";
export * from "./hypercall.js";
export * from "./memory.js";
export { freeReleasedFrame, m2pSet, putFrame, releaseFrame } from "./p2m.js";
export * from "./domain.js";
export * from "./vcpu.js";
export * from "./machine.js";
export * from "./structs.js";
export * from "./elf.js";
export * from "./bzimage.js";
export * from "./arch-stub.js";
export * from "./errors.js";
export * from "./package-file.js";
export * from "./abi/xen.js";
export * from "./abi/event-channel.js";
export * from "./abi/grant-table.js";
export * from "./abi/memory.js";
export * from "./abi/sched.js";
export * from "./abi/vcpu.js";
export * from "./abi/version.js";
export * from "./abi/callback.js";
export * from "./abi/ring.js";
export * from "./abi/blkif.js";
export * from "./abi/console.js";
export * from "./abi/xenstore.js";
export * from "./abi/domctl.js";
export * from "./abi/sysctl.js";
export * from "./abi/catalog.js";
export * from "./abi/numbers.js";
export * from "./clock.js";
export * from "./time.js";
export * from "./scheduler.js";
export * from "./di.js";
export * from "./registry.js";
export * from "./guest-adapter.js";
export * from "./guest-adapter-stub.js";
export * from "./xsm.js";
export * from "./event-channel.js";
export * from "./guest-memory.js";
export * from "./console-input.js";
export * from "./console-sink.js";
export * from "./machine-impl.js";
export * from "./boot.js";
export * from "./host-domain.js";
export * from "./hypercalls/table.js";
export { HVKIT_XEN_VERSION } from "./hypercalls/xen-version.js";
export { domctl, fillDomainInfo } from "./hypercalls/domctl.js";
export { sysctl } from "./hypercalls/sysctl.js";
export * from "./hypercalls/platform-op.js";
export * from "./elf-builder.js";
