/**
 * console_io (xen/drivers/char/console.c `do_console_io`).
 *
 * CONSOLEIO_write copies the guest buffer to the console sink. The hardware domain's
 * bytes go out as they are; other domains (allowed only by a permissive policy) have
 * non-printable bytes stripped, as Xen does. The buffer is copied in bounded chunks
 * through one reusable buffer, so a large count costs time, never host memory; bytes
 * before a bad page are still written, then −EFAULT is returned, as in Xen.
 * CONSOLEIO_read copies what the hypervisor console's input ring holds (console-input.ts),
 * at most `count` bytes; a buffer that faults is −EFAULT, the bytes copied before the
 * fault consumed, as in Xen.
 *
 * The XSM check (control domain only by default) comes first, as `xsm_console_io` in
 * `do_console_io`, so an unprivileged caller gets −EPERM whatever the command. Xen says
 * nothing when it refuses; hvkit keeps the return value and adds one hypervisor message
 * per domain, the first time a write is refused, so a domU that prints only through
 * console_io does not end with no output and no hint.
 *
 * @module
 */
import { ConsoleIoCmd } from "../abi/numbers.js";
import { hypervisorConsoleInput } from "../console-input.js";
import { Errno } from "../errno.js";
import { copyFromGuest, copyToGuest } from "../guest-memory.js";
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
  const denied = ctx.machine.xsm.consoleIo(ctx.domain, cmd);
  if (denied !== 0) {
    if (cmd === ConsoleIoCmd.write && ctx.domain.consoleWritesRefused++ === 0) {
      ctx.machine.console.hypervisorMessage(
        `domain ${ctx.domain.id}: console_io write refused (${denied === -Errno.EPERM ? "-EPERM" : denied}): ` +
          "only the control domain may write to the hypervisor console (Xen's default XSM policy); " +
          "a domU writes to its PV console ring, or is booted as dom0 (later refusals are not reported)",
      );
    }
    return denied;
  }
  switch (cmd) {
    case ConsoleIoCmd.write:
      return consoleWrite(ctx, count, buffer);
    case ConsoleIoCmd.read:
      return count > READ_MAX ? -Errno.E2BIG : consoleRead(ctx, count, buffer);
    default:
      return -Errno.ENOSYS;
  }
}

function consoleRead(ctx: HypercallContext, count: number, buffer: bigint): number {
  const read = hypervisorConsoleInput(ctx.machine).read(
    count,
    (ring, start, length, offset) =>
      copyToGuest(ctx.vcpu, buffer + BigInt(offset), ring, start, length) === 0,
  );
  return read < 0 ? -Errno.EFAULT : read;
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
