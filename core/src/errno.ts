/**
 * Xen's error numbers, as a hypercall returns them (negated) in the guest's result
 * register. Source: xen/include/public/errno.h. These are Xen's own values, which match
 * Linux's for the ones listed; they are ABI and never change.
 */
export enum Errno {
  /** Operation not permitted (e.g. an unprivileged domain calling domctl). */
  EPERM = 1,
  /** No such entry. */
  ENOENT = 2,
  /** No such domain (or the domain is dying). */
  ESRCH = 3,
  /** Interrupted; the call should be retried. */
  EINTR = 4,
  /** I/O error. */
  EIO = 5,
  /** No such device or address (e.g. a guest area that crosses a page or is misaligned). */
  ENXIO = 6,
  /** Argument list too long. */
  E2BIG = 7,
  /** Bad file (port/handle) number. */
  EBADF = 9,
  /** Try again. */
  EAGAIN = 11,
  /** Out of memory. */
  ENOMEM = 12,
  /** Permission denied. */
  EACCES = 13,
  /** A guest pointer could not be read or written. */
  EFAULT = 14,
  /** Resource busy (e.g. a grant still mapped). */
  EBUSY = 16,
  /** Already exists. */
  EEXIST = 17,
  /** Cross-domain operation not allowed. */
  EXDEV = 18,
  /** No such device. */
  ENODEV = 19,
  /** Invalid argument. */
  EINVAL = 22,
  /** No space left (e.g. out of event-channel ports). */
  ENOSPC = 28,
  /** Argument out of the function's domain (e.g. a continuation index too large). */
  EDOM = 33,
  /** Result out of range. */
  ERANGE = 34,
  /** Unknown or unimplemented hypercall or sub-operation. */
  ENOSYS = 38,
  /** No data available (e.g. XENVER_build_id on a hypervisor built without one). */
  ENODATA = 61,
  /** Value too large (e.g. a domain paused by the toolstack more than 255 times). */
  EOVERFLOW = 75,
  /** Operation not supported. */
  EOPNOTSUPP = 95,
  /** The caller's buffer is too small (xen_version's variable-length sub-ops). */
  ENOBUFS = 105,
}
