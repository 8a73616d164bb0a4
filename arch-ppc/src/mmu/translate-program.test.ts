/**
 * The MMU under the CPU: a real-mode program (corpus/translate.S, assembled by GNU as into
 * corpus/translate.bin) enters two PTEs with `sc 1` H_ENTER, loads an SLB entry with
 * `slbmte`, turns on IR and DR with `rfid`, runs from and reads/writes through the
 * mapping, removes the data page with H_REMOVE and faults touching it again. The loop
 * below is the part of a vCPU that routes PAPR hcalls and SLB instructions to the MMU.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Msr, PpcExitReason, StorageStatus } from "../cpu/cpu-api.js";
import { guest } from "./mmu-fixture.js";
import { HStatus, paprHcall } from "./papr.js";

const LOAD = 0x1000;

describe("a guest program that builds its own mapping", () => {
  it("reads and writes through it with IR/DR on, and faults after H_REMOVE", () => {
    const code = readFileSync(new URL("./corpus/translate.bin", import.meta.url));
    const { cpu, mmu, bytes } = guest();
    bytes.set(code, LOAD);
    // Frame 20 is beyond the RMA (64 KiB here): the program reaches it only through its mapping.
    new DataView(bytes.buffer).setUint32(20 * 4096 + 0x10, 0xcafef00d);
    cpu.msrHi = Msr.SF_HI;
    cpu.msrLo = 0;
    cpu.setPc(BigInt(LOAD));
    const args: bigint[] = [];
    const out: bigint[] = [];
    const seen: string[] = [];
    let e = cpu.run(1000);
    for (let n = 0; n < 20; n++, e = cpu.run(1000)) {
      if (e.reason === PpcExitReason.HypervisorCall) {
        for (let k = 0; k < 6; k++) args[k] = cpu.gpr(4 + k);
        out.length = 0;
        const status = paprHcall(mmu, Number(cpu.gpr(3)), args, out);
        cpu.setGpr(3, BigInt(status));
        out.forEach((v, k) => cpu.setGpr(4 + k, v));
        seen.push(`hcall ${status}`);
      } else if (e.reason === PpcExitReason.Emulate) {
        expect(mmu.emulate(cpu, e.word)).toBe(true);
        seen.push(`emulate ${(e.word >>> 1) & 0x3ff}`);
      } else break;
    }
    expect(seen).toEqual(["hcall 0", "hcall 0", "emulate 402", "emulate 915", "hcall 0"]);
    // Both H_ENTERs took the first slot of their PTEG.
    expect([cpu.gpr(20), cpu.gpr(21), cpu.gpr(22), cpu.gpr(23)]).toEqual([
      0n,
      0x235n * 8n,
      0n,
      0x237n * 8n,
    ]);
    // slbmfee read back ESID 1 with V.
    expect(cpu.gpr(24)).toBe(0x18000000n);
    // Through the mapping: the word in frame 20, and the store beside it.
    expect(cpu.gpr(25)).toBe(0xcafef00dn);
    expect(new DataView(bytes.buffer).getUint32(20 * 4096 + 0x14)).toBe(0xcafef00e);
    expect(cpu.gpr(27)).toBe(BigInt(HStatus.Success));
    // The load after H_REMOVE: a DSI at that instruction (translated pc), r28 untouched.
    expect(e.reason).toBe(PpcExitReason.DataStorage);
    expect(e.dar).toBe(0x10003010n);
    expect(e.dsisr).toBe(StorageStatus.NOT_FOUND);
    expect(cpu.pc).toBe(0x10001000n + 0xa4n);
    expect(cpu.gpr(28)).toBe(0n);
    expect(cpu.msrLo & (Msr.IR | Msr.DR)).toBe(Msr.IR | Msr.DR);
  });
});
