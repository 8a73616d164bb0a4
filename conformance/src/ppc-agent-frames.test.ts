// The PowerPC agent's frame mapping (arch-ppc's PpcGuestAgent.mapFrame: H_REMOVE and
// H_ENTER on the agent's window, another domain's frame through
// XENMEM_add_to_physmap_batch), on a booted agent.
import { container } from "tsyringe";
import { describe, expect, it } from "vitest";
import { ppcPlugin } from "@hvkit/arch-ppc";
import { DomId, Errno, GNTMAP_HOST_MAP, GrantFlags as GTF, GrantStatus } from "@hvkit/core";
import { Agent } from "./agent.js";
import { Gnttab, frameEnd, gref } from "./tests/grant/gnttab.js";

/** PAPR's H_Parameter, what H_ENTER answers for a frame the guest may not map. */
const H_PARAMETER = -4n;
const bytes = (n: number, from: number): Uint8Array => new Uint8Array(n).map((_, i) => from + i);

function boot(role: "dom0" | "domU" = "dom0"): Agent {
  return Agent.boot(container.createChildContainer(), ppcPlugin, { role });
}

describe("the PowerPC agent's window", () => {
  it("shows its own frames, faults where a page is unmapped and refuses writes where read-only", () => {
    const agent = boot();
    const page = agent.boot.window + 0x3000n;
    agent.write(page, bytes(16, 0x40));
    expect(agent.mapFrame(page, null, false)).toBe(0n);
    const trap = agent.tryRead(page + 8n, 8);
    expect(trap).toMatchObject({ kind: "page-fault", address: page + 8n, write: false });
    expect(agent.mapFrame(page, agent.frameOf(page), false)).toBe(0n);
    expect(agent.read(page, 16)).toEqual(bytes(16, 0x40));
    expect(agent.tryWrite(page, bytes(8, 0))).toMatchObject({ kind: "page-fault", write: true });
    expect(agent.mapFrame(page, agent.frameOf(page), true)).toBe(0n);
    agent.write(page, bytes(8, 0x70));
    // Mapped elsewhere, the page shows that frame: the scratch page's.
    const scratch = agent.alloc(4096, 4096);
    agent.write(scratch, bytes(8, 0x11));
    expect(agent.mapFrame(page, agent.frameOf(scratch), true)).toBe(0n);
    expect(agent.read(page, 8)).toEqual(bytes(8, 0x11));
  });

  it("maps a grant frame it placed in its physmap, sharing it with the hypervisor", () => {
    const agent = boot();
    const table = agent.boot.window;
    const gt = new Gnttab(agent, table);
    expect(gt.placeFrame(0, gt.hole(0))).toBe(0n);
    expect(agent.mapFrame(table, gt.hole(0), true)).toBe(0n);
    const src = agent.alloc(4096, 4096);
    const dst = agent.alloc(4096, 4096);
    agent.write(src, bytes(32, 0x20));
    // An entry written through the window is the one the hypervisor copies by.
    gt.grant(8, GTF.permit_access, agent.session.domain.id, agent.frameOf(src));
    expect(gt.copy(gref(8, DomId.SELF), frameEnd(agent.frameOf(dst)), 32)).toBe(GrantStatus.okay);
    expect(agent.read(dst, 32)).toEqual(bytes(32, 0x20));
    // And what the hypervisor writes into it (GTF_reading|GTF_writing while mapped) reads back.
    const m = gt.mapAt(table + 0x1000n, GNTMAP_HOST_MAP, 8, agent.session.domain.id);
    expect(m.status).toBe(GrantStatus.okay);
    expect(gt.flags(8)).toBe(GTF.permit_access | GTF.reading | GTF.writing);
    expect(agent.read(table + 0x1000n, 32)).toEqual(bytes(32, 0x20));
    expect(gt.unmapAt(m)).toBe(GrantStatus.okay);
    expect(gt.flags(8)).toBe(GTF.permit_access);
    // The granted frame left the guest frame it was mapped at: the page faults.
    expect(agent.tryRead(table + 0x1000n, 8)).toMatchObject({ kind: "page-fault" });
  });

  it("refuses a frame it does not have, and another domain's page without privilege", () => {
    const agent = boot("domU");
    const page = agent.boot.window;
    const gt = new Gnttab(agent, page);
    expect(agent.mapFrame(page, gt.hole(0), true)).toBe(H_PARAMETER);
    expect(agent.tryRead(page, 8)).toMatchObject({ kind: "page-fault" });
    // dom0's frame 0, asked for by a domU: XSM_TARGET (xsm_map_gmfn_foreign) refuses.
    expect(agent.mapFrame(page, 0n, true, 0)).toBe(BigInt(-Errno.EPERM));
    expect(agent.tryRead(page, 8)).toMatchObject({ kind: "page-fault" });
  });

  it("refuses its own frames or an unknown domain's as another domain's", () => {
    const agent = boot();
    const page = agent.boot.window + 0x2000n;
    // (grant/interdomain maps a created domain's frame this way: conformance suite.)
    expect(agent.mapFrame(page, 0n, true, agent.session.domain.id)).toBe(BigInt(-Errno.EINVAL));
    expect(agent.mapFrame(page, 0n, true, 0x7fe0)).toBe(BigInt(-Errno.ESRCH));
  });
});
