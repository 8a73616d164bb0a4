import { describe, expect, it } from "vitest";
import { ConsoleIoCmd, Hypercall, Virq } from "../abi/numbers.js";
import { hypervisorConsoleInput, SERIAL_RX_SIZE } from "../console-input.js";
import { Errno } from "../errno.js";
import { evtchnBindVirq, evtchnIsPending } from "../event-channel.js";
import { copyFromGuest, copyToGuest } from "../guest-memory.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";

const text = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("console_io", () => {
  it("dom0 writes bytes as they are, across page boundaries", () => {
    const { machine, sink } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true, pages: 2 });
    const msg = text("Hello\x01, hvkit!\n");
    const va = DATA_VA + 4096n - 5n;
    copyToGuest(dom0.vcpus[0], va, msg);
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.write, msg.length, va])).toBe(0);
    expect(sink.textOf(0)).toBe("Hello\x01, hvkit!\n");
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.write, 0, 0])).toBe(0);
  });

  it("copies long writes in chunks (more than one chunk of 1024)", () => {
    const { machine, sink } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true, pages: 2 });
    const big = Uint8Array.from({ length: 5000 }, (_, i) => 0x41 + (i % 26));
    copyToGuest(dom0.vcpus[0], DATA_VA, big);
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.write, 5000, DATA_VA])).toBe(0);
    expect([...sink.bytesOf(0)]).toEqual([...big]);
  });

  it("a bad buffer is -EFAULT; bytes before the bad page were written (as Xen)", () => {
    const { machine, sink } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true, pages: 1 });
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.write, 10, 0x9990000])).toBe(
      -Errno.EFAULT,
    );
    expect(sink.textOf(0)).toBe("");
    copyToGuest(dom0.vcpus[0], DATA_VA, new Uint8Array(4096).fill(0x78));
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.write, 3000, DATA_VA + 2048n])).toBe(
      -Errno.EFAULT,
    );
    expect(sink.textOf(0)).toBe("x".repeat(2048)); // two whole chunks, then the fault
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.write, 0xffffffff, DATA_VA])).toBe(
      -Errno.EFAULT,
    );
  });

  it("read with no input returns 0 bytes; a count above INT_MAX is -E2BIG; other commands -ENOSYS", () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true });
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.read, 100, DATA_VA])).toBe(0);
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.read, 0x80000000, DATA_VA])).toBe(
      -Errno.E2BIG,
    );
    expect(hypercall(dom0, Hypercall.console_io, [2, 1, DATA_VA])).toBe(-Errno.ENOSYS);
    expect(hypercall(dom0, Hypercall.console_io, [0x1_0000_0000n, 1, DATA_VA])).toBe(0); // cmd is 32-bit: 0 = write
  });

  it("read hands over typed input through the 128-byte serial_rx ring, raising VIRQ_CONSOLE on each refill", () => {
    const { machine, sink } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true, id: 0, pages: 2 });
    dom0.sharedInfoMfn = machine.allocXenFrames(1)![0];
    const port = evtchnBindVirq(machine, dom0, Virq.console, 0);
    const input = hypervisorConsoleInput(machine);
    const typed = Uint8Array.from({ length: 300 }, (_, i) => 0x20 + (i % 90));
    input.type(typed);
    expect(sink.messages).toEqual([
      "console input: 300 bytes typed at the hypervisor console (read by the hardware domain with console_io)",
    ]);
    expect(input.buffered).toBe(SERIAL_RX_SIZE);
    expect(input.queued).toBe(300 - SERIAL_RX_SIZE);
    expect(evtchnIsPending(machine, dom0, port)).toBe(true);
    const got: number[] = [];
    const readInto = (count: number) => {
      const n = Number(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.read, count, DATA_VA]));
      const buf = new Uint8Array(Math.max(n, 0));
      copyFromGuest(dom0.vcpus[0], DATA_VA, buf);
      got.push(...buf);
      return n;
    };
    expect(readInto(100)).toBe(100); // count bounds the read
    expect(input.buffered).toBe(SERIAL_RX_SIZE); // refilled from the queue at once
    expect(readInto(4096)).toBe(SERIAL_RX_SIZE); // across the ring's wrap, in two pieces
    expect(readInto(4096)).toBe(300 - 228);
    expect(readInto(4096)).toBe(0);
    expect(got).toEqual([...typed]);
  });

  it("a read into a bad buffer is -EFAULT and leaves the bytes in the ring", () => {
    const { machine } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true, id: 0 });
    hypervisorConsoleInput(machine).type(text("ls\n"));
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.read, 3, 0x9990000])).toBe(
      -Errno.EFAULT,
    );
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.read, 3, DATA_VA])).toBe(3);
    const buf = new Uint8Array(3);
    copyFromGuest(dom0.vcpus[0], DATA_VA, buf);
    expect(String.fromCharCode(...buf)).toBe("ls\n");
  });

  it("an unprivileged domain gets -EPERM for every command (XSM dummy policy)", () => {
    const { machine, sink } = fakeMachine();
    const domU = addFakeDomain(machine);
    copyToGuest(domU.vcpus[0], DATA_VA, text("hi"));
    for (const cmd of [ConsoleIoCmd.read, 7, ConsoleIoCmd.write]) {
      expect(hypercall(domU, Hypercall.console_io, [cmd, 2, DATA_VA])).toBe(-Errno.EPERM);
    }
    expect(sink.textOf(domU.id)).toBe("");
  });

  it("says once per domain, at the first refused write, that console_io is the control domain's", () => {
    const { machine, sink } = fakeMachine();
    const dom0 = addFakeDomain(machine, { privileged: true });
    const domU = addFakeDomain(machine);
    const other = addFakeDomain(machine);
    copyToGuest(domU.vcpus[0], DATA_VA, text("hi"));
    expect(hypercall(domU, Hypercall.console_io, [ConsoleIoCmd.read, 2, DATA_VA])).toBe(
      -Errno.EPERM,
    );
    expect(sink.messages).toEqual([]); // a refused read is not a lost write
    for (let i = 0; i < 3; i++) {
      expect(hypercall(domU, Hypercall.console_io, [ConsoleIoCmd.write, 2, DATA_VA])).toBe(
        -Errno.EPERM,
      );
    }
    expect(hypercall(other, Hypercall.console_io, [ConsoleIoCmd.write, 2, DATA_VA])).toBe(
      -Errno.EPERM,
    );
    expect(hypercall(dom0, Hypercall.console_io, [ConsoleIoCmd.write, 0, DATA_VA])).toBe(0);
    expect(domU.consoleWritesRefused).toBe(3);
    expect(sink.messages).toEqual([
      expect.stringMatching(
        new RegExp(
          `^domain ${domU.id}: console_io write refused \\(-EPERM\\): only the control domain .*PV console ring`,
        ),
      ),
      expect.stringMatching(new RegExp(`^domain ${other.id}: console_io write refused`)),
    ]);
  });

  it("with guestConsoleWrite, a domU may write; non-printable bytes are stripped", () => {
    const { machine, sink } = fakeMachine({}, { guestConsoleWrite: true });
    addFakeDomain(machine, { privileged: true });
    const domU = addFakeDomain(machine);
    copyToGuest(domU.vcpus[0], DATA_VA, text("a\x07b\tc\x7f\n\x1b[0m"));
    expect(hypercall(domU, Hypercall.console_io, [ConsoleIoCmd.write, 11, DATA_VA])).toBe(0);
    expect(sink.textOf(domU.id)).toBe("ab\tc\n[0m");
    expect(hypercall(domU, Hypercall.console_io, [ConsoleIoCmd.read, 1, DATA_VA])).toBe(
      -Errno.EPERM,
    );
  });
});
