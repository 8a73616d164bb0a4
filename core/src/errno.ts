/**
 * Xen's error numbers, as a hypercall returns them (negated) in the guest's result
 * register. Source: xen/include/public/errno.h. These are Xen's own values, which match
 * Linux's; they are ABI and never change. The list is errno.h's whole (aliases apart).
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
  /** Exec format error. */
  ENOEXEC = 8,
  /** Bad file (port/handle) number. */
  EBADF = 9,
  /** No child processes. */
  ECHILD = 10,
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
  /** Not a directory. */
  ENOTDIR = 20,
  /** Is a directory. */
  EISDIR = 21,
  /** Invalid argument. */
  EINVAL = 22,
  /** File table overflow. */
  ENFILE = 23,
  /** Too many open files. */
  EMFILE = 24,
  /** No space left (e.g. out of event-channel ports). */
  ENOSPC = 28,
  /** Read-only file system. */
  EROFS = 30,
  /** Too many links. */
  EMLINK = 31,
  /** Argument out of the function's domain (e.g. a continuation index too large). */
  EDOM = 33,
  /** Result out of range. */
  ERANGE = 34,
  /** Resource deadlock would occur (EDEADLOCK is the same number). */
  EDEADLK = 35,
  /** Name too long. */
  ENAMETOOLONG = 36,
  /** No record locks available. */
  ENOLCK = 37,
  /** Unknown or unimplemented hypercall or sub-operation. */
  ENOSYS = 38,
  /** Directory not empty. */
  ENOTEMPTY = 39,
  /** No data available (e.g. XENVER_build_id on a hypervisor built without one). */
  ENODATA = 61,
  /** Timer expired. */
  ETIME = 62,
  /** Not a data message. */
  EBADMSG = 74,
  /** Value too large (e.g. a domain paused by the toolstack more than 255 times). */
  EOVERFLOW = 75,
  /** Illegal byte sequence. */
  EILSEQ = 84,
  /** Interrupted; restart the call (a continuation Xen handles itself). */
  ERESTART = 85,
  /** Not a socket. */
  ENOTSOCK = 88,
  /** Message too large. */
  EMSGSIZE = 90,
  /** Operation not supported. */
  EOPNOTSUPP = 95,
  /** Address already in use. */
  EADDRINUSE = 98,
  /** Cannot assign the requested address. */
  EADDRNOTAVAIL = 99,
  /** The caller's buffer is too small (xen_version's variable-length sub-ops). */
  ENOBUFS = 105,
  /** Already connected. */
  EISCONN = 106,
  /** Not connected. */
  ENOTCONN = 107,
  /** Timed out. */
  ETIMEDOUT = 110,
  /** Connection refused. */
  ECONNREFUSED = 111,
}
