/**
 * The hypercall page (xen.h HYPERCALL_PAGE note; Xen's builder fills the page the kernel
 * names with one stub per hypercall: x86's hypercall_page_initialise): the agent's boot
 * report names the page its image's note gives, Xen has written over what the image
 * carried there, and each hypercall made through its stub gives what the bare hypercall
 * instruction gives — results and the bytes written to the caller's buffers — for
 * hypercalls whose answers tell them apart (xen_version's number, its extraversion and
 * capabilities strings, memory_op's page counts, an unknown number's −ENOSYS, vm_assist's
 * −EINVAL for a type past the word, console_io's role-dependent answer).
 *
 * The stubs' exact bytes are the arch's (x86_64: push rcx; push r11; mov $n, eax;
 * syscall; pop r11; pop rcx; ret, 32 bytes apart, the iret stub without the return, int3
 * padding); the compiled hypercall-page guest checks them.
 */
import {
  ConsoleIoCmd,
  DomId,
  Errno,
  HVKIT_XEN_VERSION,
  Hypercall,
  MemoryOp,
  XenVersionOp,
  computeLoadLayout,
  parseElf,
} from "@hvkit/core";
import type { Agent } from "../../agent.js";
import { agentTest, hexBytes } from "../agent-test.js";

/** A number Xen assigns no hypercall (xen.h: 0–42 and 48–55). */
const UNASSIGNED = 60;
/**
 * vm_assist(VMASST_CMD_enable, type): a type at or above BITS_PER_LONG is −EINVAL on every
 * arch (xen/common/domain.c do_vm_assist).
 */
const VMASST_CMD_ENABLE = 0;
const VMASST_TYPE_NONE = 64;
/** Bytes of xen_extraversion_t and xen_capabilities_info_t (version.h). */
const EXTRAVERSION_BYTES = 16;
const CAPABILITIES_BYTES = 1024;

/** A way to make a hypercall: through the page, or with the bare instruction. */
type Call = (nr: number, ...args: (bigint | number)[]) => bigint;

/** What a call gives: its result, and the bytes it wrote (hex). */
interface Answer {
  readonly rc: bigint;
  readonly written: string;
}

/** One hypercall, made once through the page and once with the bare instruction. */
interface Probe {
  readonly name: string;
  /** Its answer when made by `call` with arguments pointing into `buffer`. */
  make(call: Call, buffer: bigint): bigint;
  /** Bytes of `buffer` it writes. */
  readonly writes: number;
  /** What it answers, when the test knows. */
  readonly want?: bigint | number;
}

function probes(agent: Agent, dom0: boolean): readonly Probe[] {
  const self = agent.alloc(2, 2);
  agent.writeUint(self, 2, DomId.SELF);
  return [
    {
      name: "xen_version(XENVER_version)",
      make: (call) => call(Hypercall.xen_version, XenVersionOp.version, 0),
      writes: 0,
      want: (HVKIT_XEN_VERSION.major << 16) | HVKIT_XEN_VERSION.minor,
    },
    {
      name: "xen_version(XENVER_extraversion)",
      make: (call, buffer) =>
        call(Hypercall.xen_version, XenVersionOp.extraversion, agent.handle(buffer)),
      writes: EXTRAVERSION_BYTES,
      want: 0,
    },
    {
      name: "xen_version(XENVER_capabilities)",
      make: (call, buffer) =>
        call(Hypercall.xen_version, XenVersionOp.capabilities, agent.handle(buffer)),
      writes: CAPABILITIES_BYTES,
      want: 0,
    },
    {
      name: "memory_op(XENMEM_maximum_ram_page)",
      make: (call) => call(Hypercall.memory_op, MemoryOp.maximum_ram_page, 0),
      writes: 0,
    },
    {
      name: "memory_op(XENMEM_current_reservation, DOMID_SELF)",
      make: (call) => call(Hypercall.memory_op, MemoryOp.current_reservation, agent.handle(self)),
      writes: 0,
      want: agent.bootInfo().nrPages,
    },
    {
      name: `unassigned hypercall ${UNASSIGNED}`,
      make: (call) => call(UNASSIGNED, 0, 0),
      writes: 0,
      want: -Errno.ENOSYS,
    },
    {
      name: `vm_assist(VMASST_CMD_enable, type ${VMASST_TYPE_NONE})`,
      make: (call) => call(Hypercall.vm_assist, VMASST_CMD_ENABLE, VMASST_TYPE_NONE),
      writes: 0,
      want: -Errno.EINVAL,
    },
    {
      name: "console_io(CONSOLEIO_write, 0 bytes)",
      make: (call, buffer) =>
        call(Hypercall.console_io, ConsoleIoCmd.write, 0, agent.handle(buffer)),
      writes: 0,
      want: dom0 ? 0 : -Errno.EPERM,
    },
  ];
}

/** The bytes the agent's image carries at `va`, through core's ELF loader (zero past a segment's file bytes). */
function imageBytes(agent: Agent, va: bigint, length: number): Uint8Array | null {
  const layout = computeLoadLayout(parseElf(agent.spec.image, agent.arch));
  for (const s of layout.segments) {
    const at = va - s.virtualAddress;
    if (at < 0n || at + BigInt(length) > s.memSize) continue;
    const out = new Uint8Array(length);
    const from = Number(at);
    if (from < s.data.length)
      out.set(s.data.subarray(from, Math.min(s.data.length, from + length)));
    return out;
  }
  return null;
}

/** hypercall/page. */
export const hypercallPage = agentTest({
  area: "hypercall",
  name: "page",
  description:
    "Xen fills the page the image names, and hypercalls through its stubs behave as the bare hypercall instruction",
  requires: { features: ["hypercall-page"] },
  run(agent, check, ctx) {
    const page = agent.boot.hypercallPage;
    const size = agent.pageSize;
    check.that(
      "the boot report names a page-aligned hypercall page",
      page !== 0n && page % BigInt(size) === 0n,
      page,
    );
    const note = computeLoadLayout(parseElf(agent.spec.image, agent.arch)).hypercallPage;
    check.equal("it is the page the image's HYPERCALL_PAGE note names", page, note ?? null);
    const carried = imageBytes(agent, page, size);
    check.that("the image carries that page", carried !== null);
    if (carried !== null) {
      check.that(
        "Xen wrote over what the image carried there",
        hexBytes(agent.read(page, size)) !== hexBytes(carried),
      );
    }

    for (const p of probes(agent, ctx.cell.role === "dom0")) {
      const answer = (call: Call): Answer => {
        const buffer = agent.alloc(Math.max(p.writes, 8));
        const rc = p.make(call, buffer);
        return { rc, written: hexBytes(agent.read(buffer, p.writes)) };
      };
      const stub = answer((nr, ...args) => agent.hypercall(nr, ...args));
      const direct = answer((nr, ...args) => agent.hypercallDirect(nr, ...args));
      if (p.want !== undefined) check.equal(`${p.name} through the page`, stub.rc, p.want);
      check.equal(`${p.name}: the bare instruction gives the same`, direct.rc, stub.rc);
      if (p.writes > 0) {
        check.that(`${p.name} through the page writes its buffer`, /[^0]/.test(stub.written));
        check.equal(
          `${p.name}: the bare instruction writes the same bytes`,
          direct.written,
          stub.written,
        );
      }
    }
  },
});
