/**
 * console_io (xen/drivers/char/console.c `do_console_io`).
 *
 * CONSOLEIO_write copies the guest buffer to the console sink. The hardware domain's
 * bytes go out as they are; other domains (allowed only by a permissive policy) have
 * non-printable bytes stripped, as Xen does. The buffer is copied in bounded chunks
 * through one reusable buffer, so a large count costs time, never host memory; bytes
 * before a bad page are still written, then −EFAULT is returned, as in Xen.
 * CONSOLEIO_read returns 0 bytes: console input arrives with the logged-input machinery.
 *
 * The XSM check (control domain only by default) is made by the dispatcher, before the
 * command is looked at, so an unprivileged caller gets −EPERM whatever the command.
 *
 * @module
 */
import { ConsoleIoCmd } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import { copyFromGuest } from "../guest-memory.js";
import type { HypercallArgs, HypercallContext } from "../hypercall.js";

/** Bytes copied from the guest per step of a CONSOLEIO_write. */
const CHUNK = 1024;
const chunk = new Uint8Array(CHUNK);

/** Largest count CONSOLEIO_read accepts (INT_MAX): its result must stay positive. */
const READ_MAX = 0x7fffffff;

/** `console_io(cmd, count, buffer)`. */
export function consoleIo(ctx: HypercallContext, args: HypercallArgs): number {
  const cmd = args.u32(0);
  const count = args.u32(1);
  const buffer = args.u64(2);
  switch (cmd) {
    case ConsoleIoCmd.write:
      return consoleWrite(ctx, count, buffer);
    case ConsoleIoCmd.read:
      return count > READ_MAX ? -Errno.E2BIG : 0;
    default:
      return -Errno.ENOSYS;
  }
}

function consoleWrite(ctx: HypercallContext, count: number, buffer: bigint): number {
  const hardwareDomain = ctx.domain.id === 0;
  let done = 0;
  while (done < count) {
    const n = Math.min(CHUNK, count - done);
    if (copyFromGuest(ctx.vcpu, buffer + BigInt(done), chunk, 0, n) !== 0) return -Errno.EFAULT;
    const out = hardwareDomain ? chunk.slice(0, n) : printable(chunk, n);
    if (out.length > 0) ctx.machine.console.guestOutput(ctx.domain, out);
    done += n;
  }
  return 0;
}

/** The printable bytes of `bytes[0, n)`: isprint, newline and tab (Xen's is_console_printable). */
function printable(bytes: Uint8Array, n: number): Uint8Array {
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[i];
    if ((c >= 0x20 && c <= 0x7e) || c === 0x0a || c === 0x09) bytes[kept++] = c;
  }
  return bytes.slice(0, kept);
}
