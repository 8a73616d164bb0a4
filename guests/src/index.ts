/**
 * `@hvkit/guests`: guest-OS port adapters and dom0 services.
 *
 * @packageDocumentation
 */
/** Names of the guest OS adapters planned. */
export const GUEST_OS_NAMES = ["linux", "netbsd", "freebsd", "darwin"] as const;
