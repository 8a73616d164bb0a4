/**
 * `@hvkit/guests`: guest-OS port adapters and dom0 services.
 *
 * @packageDocumentation
 */
/** Names of the guest OS adapters planned. */
export const GUEST_OS_NAMES = ["linux", "netbsd", "freebsd", "darwin"] as const;
export * from "./xenstore/wire.js";
export * from "./xenstore/quota.js";
export * from "./xenstore/daemon.js";
export * from "./xenstore/ring.js";
export * from "./xenstore/toolstack.js";
export * from "./xenbus/client.js";
export * from "./xenbus/ring.js";
export * from "./xenstore/service.js";
export * from "./console/daemon.js";
export * from "./dom0/builtin-dom0.js";
export * from "./xl/config-file.js";
export * from "./xl/domain-config.js";
export * from "./linux/cpio.js";
export * from "./linux/debian-packages.js";
export * from "./linux/initramfs.js";
export * from "./linux/adapter.js";
