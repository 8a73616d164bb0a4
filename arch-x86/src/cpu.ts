/**
 * The x86 CPU model: architectural state in typed arrays and plain number fields (64-bit
 * registers as 32-bit halves), memory access through the software TLB, and the
 * {@link X86CpuApi} surface. The interpreter loop is in execute.ts.
 *
 * @module
 */
import type { ExecutionProfile, PhysicalMemory } from "@hvkit/core";
import { materialize } from "./alu.js";
import { Reg, Seg, Vector, X86ExitReason, type X86CpuApi, type X86Exit } from "./cpu-api.js";
import { BlockCache } from "./block-compiler.js";
import { DecodeCache, modeKey, type DecodeFn, type OperandResolver } from "./decode-cache.js";
import { Dr6, Dr7 } from "./debug.js";
import { execute } from "./execute.js";
import { ExecProfile, startProfile } from "./exec-profile.js";
import {
  cacheSegment,
  checkReturnStack,
  codeSizeOfSelector,
  farReturnTarget,
  DescriptorTables,
  invalidateDataSegments,
  loadSegment,
  readDescriptor,
  stackBigOf,
} from "./segment.js";
import {
  FCW_DEFAULT,
  FxPart,
  fxImageMxcsrValid,
  MXCSR_DEFAULT,
  readFxImage,
  resetVectorState,
  writeFxImage,
} from "./fpu.js";
import {
  Access,
  EFER_NXE,
  P_RS,
  P_RU,
  P_WS,
  P_WS_CODE,
  P_WU,
  P_WU_CODE,
  P_XS,
  P_XU,
  Paging,
  TLB_MASK,
} from "./paging.js";

/** Thrown (this one object, never a new one) to abandon an instruction that faulted. */
export const FAULT: { readonly fault: true } = { fault: true };

/** Model-specific register numbers the CPU implements (SDM vol. 4). */
export const Msr = {
  /** IA32_TIME_STAMP_COUNTER. */ TSC: 0x10,
  /** IA32_EFER. */ EFER: 0xc0000080,
  /** IA32_STAR. */ STAR: 0xc0000081,
  /** IA32_LSTAR. */ LSTAR: 0xc0000082,
  /** IA32_CSTAR. */ CSTAR: 0xc0000083,
  /** IA32_FMASK. */ SFMASK: 0xc0000084,
  /** IA32_FS_BASE. */ FS_BASE: 0xc0000100,
  /** IA32_GS_BASE. */ GS_BASE: 0xc0000101,
  /** IA32_KERNEL_GS_BASE. */ KERNEL_GS_BASE: 0xc0000102,
  /** IA32_TSC_AUX. */ TSC_AUX: 0xc0000103,
} as const;

const TWO32 = 4294967296;

function toBig(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * One x86 CPU (a vCPU's execution engine) in long mode: 64-bit code, or 32- and 16-bit
 * code in compatibility mode ({@link codeSize}).
 */
export class X86Cpu implements X86CpuApi {
  /** Low 32 bits of each general-purpose register. */
  readonly regLo = new Int32Array(16);
  /** High 32 bits of each general-purpose register. */
  readonly regHi = new Int32Array(16);
  /** rip, low half. */
  ripLo = 0;
  /** rip, high half. */
  ripHi = 0;
  /** RFLAGS, kept exact after every instruction. */
  flags = 0x202;
  /** High half of the last 64-bit ALU result or memory read (scratch). */
  hi = 0;
  /** Deferred status flags (alu.ts `Lazy`); see `AluState`. */
  lz = 0;
  /** Deferred flags: operand size. */
  lzSz = 4;
  /** Deferred flags: first operand (or result), low half. */
  lzA = 0;
  /** Deferred flags: first operand, high half. */
  lzAh = 0;
  /** Deferred flags: second operand, low half. */
  lzB = 0;
  /** Deferred flags: second operand, high half. */
  lzBh = 0;
  /** Segment selectors, index `Seg`. */
  readonly sel = new Uint16Array(6);
  /** FS base, low half. */ fsLo = 0;
  /** FS base, high half. */ fsHi = 0;
  /** GS base, low half. */ gsLo = 0;
  /** GS base, high half. */ gsHi = 0;
  /** KERNEL_GS_BASE (swapgs), low half. */ kgsLo = 0;
  /** KERNEL_GS_BASE, high half. */ kgsHi = 0;
  /** CR2, low half. */ cr2Lo = 0;
  /** CR2, high half. */ cr2Hi = 0;
  /** STAR/LSTAR/CSTAR/SFMASK/TSC_AUX as [lo, hi] pairs at 2·k (k = 0..4). */
  readonly syscallMsrs = new Int32Array(10);
  /** Debug registers DR0–DR7, low halves (DR6 and DR7 are 32 bits); see debug.ts. */
  readonly dr = new Int32Array([0, 0, 0, 0, 0, 0, Dr6.DEFAULT | 0, Dr7.DEFAULT]);
  /** High halves of the breakpoint addresses DR0–DR3. */
  readonly drHi = new Int32Array(4);
  /** DR7 arms a breakpoint: `execute` then steps through debug.ts. */
  debugActive = false;
  /** Set while debug.ts steps: compiled blocks are not entered. */
  stepping = false;
  /** DR6 conditions held across the instruction after `mov ss` (the interrupt shadow). */
  pendingDb = 0;
  /** GDTR/IDTR: limit, base lo, base hi; LDTR and TR selectors. */
  readonly descTables = new Int32Array(8);
  // ---- compatibility mode (32- and 16-bit code under long mode) ----
  /**
   * Code size of the current code segment: 64 (CS.L = 1), 32 (CS.L = 0, CS.D = 1) or 16
   * (both clear). Set with {@link setCodeSize}.
   */
  codeSize: 64 | 32 | 16 = 64;
  /** {@link codeSize} as the decode cache keys it (decode-cache.ts `modeKey`). */
  modeKey = 0;
  /** Stack pointer width outside 64-bit mode: 4 (esp, SS.B = 1) or 2 (sp); 8 in 64-bit mode. */
  stackSize = 8;
  /**
   * Bases of ES, CS, SS and DS from their descriptors, applied outside 64-bit mode only
   * (64-bit mode treats them as 0; FS and GS bases are {@link fsLo}/{@link gsLo} in both).
   * The code segment's base is not applied to instruction fetches (PV code segments are flat).
   */
  readonly segBase = new Int32Array(4);
  /** Bit `1 << Seg` set for each of ES, CS, SS, DS whose {@link segBase} is not 0. */
  segBaseMask = 0;
  /** The stack segment's B bit (32-bit stack pointer outside 64-bit mode). */
  ssBig = true;
  /** Limits (bytes − 1) of ES, CS, SS, DS, FS, GS from their descriptors, checked outside 64-bit mode. */
  readonly segLimit = new Int32Array(6).fill(-1);
  /** Bit `1 << Seg` set for each segment whose limit must be checked: below 4 GiB, or expand-down. */
  segCheck = 0;
  /** Bit `1 << Seg` set for each expand-down data segment. */
  segExpandDown = 0;
  /**
   * High word of the descriptor each of ES, CS, SS, DS, FS, GS was last loaded from (type,
   * DPL, present), 0 for a null selector or one loaded without tables: what a return to an
   * outer privilege level checks (segment.ts `invalidateDataSegments`).
   */
  readonly segAttr = new Int32Array(6);
  /** The descriptor tables segment loads read (segment.ts). */
  readonly tables = new DescriptorTables();
  /** `syscall` is valid in compatibility mode (AMD); false: #UD there (Intel). */
  syscallInCompat = false;
  // ---- x87, MMX and SSE state (layout and rules in fpu.ts) ----
  /**
   * x87 data registers R0–R7 in physical order (ST(i) is R((TOP + i) & 7)): the 64-bit
   * significand of Ri as int32 halves, low at 2i, high at 2i + 1 (the explicit integer bit
   * is bit 63). MMX register MMi is this significand of Ri.
   */
  readonly fpuMant = new Int32Array(16);
  /** x87 data registers R0–R7: sign (bit 15) and biased exponent (bits 0–14); 0xffff after an MMX write. */
  readonly fpuSignExp = new Uint16Array(8);
  /** x87 control word (FCW). */
  fcw = FCW_DEFAULT;
  /** x87 status word (FSW) without its TOP field (bits 11–13 always 0 here; TOP is {@link ftop}). */
  fsw = 0;
  /** x87 TOP: the physical register that is ST(0). */
  ftop = 0;
  /** x87 tag word in FXSAVE's abridged form: bit i set when Ri is not empty. */
  ftw = 0;
  /** x87 last instruction opcode (FOP, 11 bits). */
  fop = 0;
  /** x87 last instruction pointer (FIP), low half. */
  fipLo = 0;
  /** FIP, high half. */
  fipHi = 0;
  /** x87 last instruction code selector (FCS). */
  fcs = 0;
  /** x87 last data (operand) pointer (FDP), low half. */
  fdpLo = 0;
  /** FDP, high half. */
  fdpHi = 0;
  /** x87 last data selector (FDS). */
  fds = 0;
  /** XMM0–XMM15, four int32 lanes each (lane k of XMMn at 4n + k, lane 0 least significant). */
  readonly xmm = new Int32Array(64);
  /** MXCSR. */
  mxcsr = MXCSR_DEFAULT;
  /** XCR0 (XFEATURE_ENABLED_MASK), as xgetbv reads it; reset value 1 (x87 only). */
  xcr0 = 1;
  /** Time-stamp counter at the start of the next run (set by the owner before a run). */
  tscBase = 0;
  /** TSC ticks per retired instruction. */
  tscPerInstruction = 1;
  /** Instructions (and rep iterations) retired in the current run so far, kept by execute. */
  retiredInRun = 0;
  /** TLB permission bits checked for data reads at the current CPL. */
  rMask = P_RU;
  /** TLB permission bits checked for data writes. */
  wMask = P_WU;
  /** TLB permission bits checked for instruction fetches. */
  xMask = P_XU;
  /** Machine memory. */
  readonly bytes: Uint8Array;
  /** Machine memory as a little-endian DataView. */
  readonly view: DataView;
  /** Page walker and TLB. */
  readonly paging: Paging;
  /** Decode cache. */
  readonly dcache: DecodeCache;
  /** Compiled blocks of 64-bit code (block-compiler.ts). */
  readonly blocks = new BlockCache();
  /**
   * Compiled blocks of 32-bit code: a cache of their own, so a block built for one code
   * size never runs in the other (the same bytes are different instructions there).
   */
  readonly blocks32 = new BlockCache();
  /**
   * Times the interpreter reaches an address before the block there is compiled (at most
   * 65,535); −1 never compiles (interpreter only). Tests set 0 to compile everything at
   * once. Compiling a block costs far more than interpreting it a few thousand times
   * (V8 parses, compiles and later optimises each generated function): Debian's kernel
   * booting to 2 G instructions with 4,096 blocks at most took 139 s of CPU at 200, 107 s
   * at 1,000 and 90 s at 4,000 (the same machine under the same load).
   */
  blockThreshold = 4000;
  // ---- execution profile (exec-profile.ts; `hvkit run --profile`) ----
  /** The profile's counters while one is running ({@link startProfile}), else null. */
  profile: ExecProfile | null = null;

  startProfile(): () => ExecutionProfile {
    return startProfile(this);
  }

  /** Retired count at a fault inside a compiled block (read by the interpreter loop). */
  blockRetired = 0;
  /**
   * Set when a data access faulted on a non-canonical address (raised as #GP(0)); the
   * interpreter loop then decides whether the access went through SS (#SS(0) instead).
   */
  nonCanonicalData = false;
  /** TLB arrays (copied references, for the hot path). */
  readonly tlbLo: Int32Array;
  /** TLB tags, high halves. */
  readonly tlbHi: Int32Array;
  /** TLB permissions. */
  readonly tlbPerm: Uint8Array;
  /** TLB machine page addresses. */
  readonly tlbBase: Int32Array;
  /** 128-bit scratch for multiply and divide. */
  readonly wide = new Int32Array(4);
  /** Scratch copy of instruction bytes that cross a page boundary. */
  readonly fetchBuf = new Uint8Array(16);
  /** Details of the last exit. */
  readonly exit: X86Exit = {
    reason: X86ExitReason.Budget,
    retired: 0,
    vector: 0,
    errorCode: -1,
    cr2: 0n,
    software: false,
    forced: false,
    instructionLength: 0,
  };
  private cplValue = 3;

  /**
   * @param memory - machine memory (little-endian, 4 KiB frames).
   * @param decode - the instruction decoder (decode.ts `decodeInsn`).
   * @param resolve - resolves operand locations of a decoded record from its table row.
   */
  constructor(memory: PhysicalMemory, decode: DecodeFn, resolve: OperandResolver) {
    this.bytes = memory.bytes;
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const frames = Math.floor(this.bytes.length / 4096);
    this.dcache = new DecodeCache(frames, decode, resolve, (mfn) => this.paging.protectFrame(mfn));
    this.paging = new Paging(this.bytes, this.dcache.codePages);
    this.tlbLo = this.paging.tagLo;
    this.tlbHi = this.paging.tagHi;
    this.tlbPerm = this.paging.perm;
    this.tlbBase = this.paging.base;
    this.sel[1] = 0xe033;
    this.sel[2] = 0xe02b;
  }

  // ---- X86CpuApi ----

  run(budget: number): X86ExitReason {
    return execute(this, budget);
  }

  skipInstruction(): void {
    const l = (this.ripLo >>> 0) + this.exit.instructionLength;
    this.ripLo = l | 0;
    if (l >= TWO32) this.ripHi = (this.ripHi + 1) | 0;
  }

  getReg(r: Reg): bigint {
    return toBig(this.regLo[r], this.regHi[r]);
  }

  setReg(r: Reg, value: bigint): void {
    this.regLo[r] = Number(BigInt.asIntN(32, value));
    this.regHi[r] = Number(BigInt.asIntN(32, value >> 32n));
  }

  getReg32(r: Reg): number {
    return this.regLo[r] >>> 0;
  }

  get rip(): bigint {
    return toBig(this.ripLo, this.ripHi);
  }
  set rip(v: bigint) {
    this.ripLo = Number(BigInt.asIntN(32, v));
    this.ripHi = Number(BigInt.asIntN(32, v >> 32n));
  }

  /**
   * Sets the code size from the code segment's L and D bits and the stack width from the
   * stack segment's B bit (ignored for the stack in 64-bit code; by default the B bit last
   * loaded). Call it whenever CS or SS changes outside the CPU's own instructions.
   */
  setCodeSize(code: 64 | 32 | 16, stackB = this.ssBig): void {
    this.codeSize = code;
    this.modeKey = modeKey(code);
    this.ssBig = stackB;
    this.stackSize = code === 64 ? 8 : stackB ? 4 : 2;
  }

  loadCodeSegment(cs: number, ss: number): void {
    this.sel[Seg.CS] = cs & 0xffff;
    this.sel[Seg.SS] = ss & 0xffff;
    cacheSegment(this, Seg.CS, cs);
    cacheSegment(this, Seg.SS, ss);
    this.setCodeSize(codeSizeOfSelector(this, cs, 64), stackBigOf(this, ss));
  }

  readDescriptor(sel: number): boolean {
    return (sel & 0xfffc) !== 0 && this.tables.enabled && readDescriptor(this, sel, false);
  }

  checkReturnFrame(cs: number, ss: number, eip: number): boolean {
    const cpl = this.cpl;
    this.cpl = 0;
    try {
      farReturnTarget(this, cs);
      const t = this.tables;
      if (t.targetSize !== 64 && eip >>> 0 > t.targetLimit >>> 0) this.gp0();
      checkReturnStack(this, ss, cs & 3, t.targetSize);
      return true;
    } catch (e) {
      if (e !== FAULT) throw e;
      return false;
    } finally {
      this.cpl = cpl;
    }
  }

  loadDataSegment(seg: number, sel: number): boolean {
    try {
      if ((sel & 0xfffc) !== 0 && !this.readDescriptor(sel)) this.gp0();
      loadSegment(this, seg, sel);
      return true;
    } catch (e) {
      if (e !== FAULT) throw e;
      loadSegment(this, seg, 0);
      return false;
    }
  }

  returnToOuterLevel(cs: number, ss: number): void {
    this.cpl = cs & 3;
    this.loadCodeSegment(cs, ss);
    invalidateDataSegments(this);
  }

  /** Sets the base of ES, CS, SS or DS (used outside 64-bit mode); FS/GS bases are {@link fsBase}/{@link gsBase}. */
  setSegmentBase(seg: number, base: number): void {
    if (seg > 3) return;
    this.segBase[seg] = base | 0;
    this.segBaseMask = base === 0 ? this.segBaseMask & ~(1 << seg) : this.segBaseMask | (1 << seg);
  }

  get rflags(): number {
    materialize(this);
    return this.flags;
  }
  set rflags(v: number) {
    // Bit 1 is always set; bits 3, 5, 15 and 22–31 always clear.
    this.flags = ((v & 0x3f7fd5) | 2) >>> 0;
    this.lz = 0;
  }

  get cpl(): number {
    return this.cplValue;
  }
  set cpl(v: number) {
    this.cplValue = v & 3;
    const user = this.cplValue === 3;
    this.rMask = user ? P_RU : P_RS;
    this.wMask = user ? P_WU : P_WS;
    this.xMask = user ? P_XU : P_XS;
  }

  get fsBase(): bigint {
    return toBig(this.fsLo, this.fsHi);
  }
  set fsBase(v: bigint) {
    this.fsLo = Number(BigInt.asIntN(32, v));
    this.fsHi = Number(BigInt.asIntN(32, v >> 32n));
  }
  get gsBase(): bigint {
    return toBig(this.gsLo, this.gsHi);
  }
  set gsBase(v: bigint) {
    this.gsLo = Number(BigInt.asIntN(32, v));
    this.gsHi = Number(BigInt.asIntN(32, v >> 32n));
  }
  /** KERNEL_GS_BASE (exchanged with the GS base by swapgs). */
  get kernelGsBase(): bigint {
    return toBig(this.kgsLo, this.kgsHi);
  }
  set kernelGsBase(v: bigint) {
    this.kgsLo = Number(BigInt.asIntN(32, v));
    this.kgsHi = Number(BigInt.asIntN(32, v >> 32n));
  }
  get cr2(): bigint {
    return toBig(this.cr2Lo, this.cr2Hi);
  }
  set cr2(v: bigint) {
    this.cr2Lo = Number(BigInt.asIntN(32, v));
    this.cr2Hi = Number(BigInt.asIntN(32, v >> 32n));
  }
  get cr3(): number {
    return this.paging.cr3;
  }
  set cr3(v: number) {
    this.paging.cr3 = v;
    this.paging.flush();
  }
  get cr0(): number {
    return this.paging.cr0;
  }
  set cr0(v: number) {
    if (((v ^ this.paging.cr0) & 0x80010000) !== 0) this.paging.flush();
    this.paging.cr0 = v | 0;
  }
  get cr4(): number {
    return this.paging.cr4;
  }
  set cr4(v: number) {
    if (((v ^ this.paging.cr4) & 0x1000b0) !== 0) this.paging.flush();
    this.paging.cr4 = v | 0;
  }
  get efer(): number {
    return this.paging.efer;
  }
  set efer(v: number) {
    if (((v ^ this.paging.efer) & EFER_NXE) !== 0) this.paging.flush();
    this.paging.efer = v | 0;
  }

  flushTlb(): void {
    this.paging.flush();
  }

  invlpg(va: bigint): void {
    this.paging.invlpg(Number(BigInt.asIntN(32, va)), Number(BigInt.asIntN(32, va >> 32n)));
  }

  translate(va: bigint, write: boolean, user: boolean): number {
    const lo = Number(BigInt.asIntN(32, va));
    const hi = Number(BigInt.asIntN(32, va >> 32n));
    const pa = this.paging.walk(lo, hi, write ? Access.Write : Access.Read, user);
    if (pa >= 0 && write) this.dcache.invalidateRange(pa, 1);
    return pa < 0 ? -1 : pa;
  }

  getDebugReg(n: number): bigint {
    const r = n === 4 || n === 5 ? n + 2 : n;
    return r < 4 ? toBig(this.dr[r], this.drHi[r]) : BigInt(this.dr[r] >>> 0);
  }

  setDebugReg(n: number, value: bigint): void {
    this.writeDebugReg(
      n,
      Number(BigInt.asIntN(32, value)),
      Number(BigInt.asIntN(32, value >> 32n)),
    );
  }

  /** {@link setDebugReg} with the value as 32-bit halves (DR4/DR5 alias DR6/DR7). */
  writeDebugReg(n: number, lo: number, hi: number): void {
    const r = n === 4 || n === 5 ? n + 2 : n;
    if (r > 7 || r === 4 || r === 5) return;
    this.dr[r] = lo;
    if (r < 4) this.drHi[r] = hi;
    this.debugActive = (this.dr[7] & Dr7.ACTIVE) !== 0;
  }

  invalidateCode(pa: number, length: number): void {
    this.dcache.invalidateRange(pa, length);
  }

  // ---- the FPU state as a whole (layout code in fpu.ts) ----

  saveFxImage(view: DataView, off: number, wide: boolean): void {
    writeFxImage(this, view, off, FxPart.ALL, wide);
  }

  loadFxImage(view: DataView, off: number, wide: boolean): boolean {
    if (!fxImageMxcsrValid(view, off)) return false;
    readFxImage(this, view, off, FxPart.ALL, wide);
    return true;
  }

  resetFpuState(): void {
    resetVectorState(this);
  }

  // ---- exceptions ----

  /** Ends the current instruction with exception `vector` (fault semantics: rip unchanged). */
  raise(vector: number, errorCode: number): never {
    const e = this.exit;
    e.reason = X86ExitReason.Exception;
    e.vector = vector;
    e.errorCode = errorCode;
    e.software = false;
    throw FAULT;
  }

  /** #GP(0) helper. */
  gp0(): never {
    return this.raise(Vector.GP, 0);
  }

  private fault(lo: number, hi: number, r: number): never {
    if (r === -2) return this.raise(Vector.GP, 0);
    this.cr2Lo = lo;
    this.cr2Hi = hi;
    this.exit.cr2 = toBig(lo, hi);
    return this.raise(Vector.PF, this.paging.faultCode);
  }

  /** Machine address of (lo, hi) for `access` (TLB, else walk); raises #PF/#GP. */
  addr(lo: number, hi: number, access: Access): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (this.tlbLo[i] === (lo & -4096) && this.tlbHi[i] === hi) {
      const p = this.tlbPerm[i];
      const need =
        access === Access.Read ? this.rMask : access === Access.Write ? this.wMask : this.xMask;
      if ((p & need) !== 0) return this.tlbBase[i] | (lo & 4095);
      if (access === Access.Write && (p & (need === P_WS ? P_WS_CODE : P_WU_CODE)) !== 0) {
        // Writable, but the frame holds cached code: drop decodings of the bytes written.
        const pa = this.tlbBase[i] | (lo & 4095);
        this.dcache.invalidateRange(pa, 8);
        return pa;
      }
    }
    const pa = this.paging.walk(lo, hi, access, this.cplValue === 3);
    if (pa < 0) {
      if (pa === -2 && access !== Access.Exec) this.nonCanonicalData = true;
      return this.fault(lo, hi, pa);
    }
    if (access === Access.Write && this.dcache.codePages[Math.floor(pa / 4096)] !== 0) {
      this.dcache.invalidateRange(pa, 8);
    }
    return pa;
  }

  // ---- data access (little-endian; `lo`, `hi` = linear address) ----

  /** Reads a byte. */
  rd8(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.rMask) !== 0
    ) {
      return this.bytes[this.tlbBase[i] | (lo & 4095)];
    }
    return this.bytes[this.addr(lo, hi, Access.Read)];
  }

  /** Reads 16 bits. */
  rd16(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.rMask) !== 0 &&
      (lo & 4095) <= 4094
    ) {
      return this.view.getUint16(this.tlbBase[i] | (lo & 4095), true);
    }
    return this.rdSlow(lo, hi, 2);
  }

  /** Reads 32 bits (unsigned). */
  rd32(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.rMask) !== 0 &&
      (lo & 4095) <= 4092
    ) {
      return this.view.getUint32(this.tlbBase[i] | (lo & 4095), true);
    }
    return this.rdSlow(lo, hi, 4);
  }

  /** Reads 64 bits: low half returned (int32), high half in `hi`. */
  rd64(lo: number, hi: number): number {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.rMask) !== 0 &&
      (lo & 4095) <= 4088
    ) {
      const pa = this.tlbBase[i] | (lo & 4095);
      this.hi = this.view.getInt32(pa + 4, true);
      return this.view.getInt32(pa, true);
    }
    const l = this.rdSlow(lo, hi, 4) | 0;
    const nl = (lo + 4) | 0;
    this.hi = this.rdSlow(nl, nl >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi, 4) | 0;
    return l;
  }

  /** Reads `size` (1, 2, 4 or 8) bytes; 8 as {@link rd64}. */
  rd(lo: number, hi: number, size: number): number {
    switch (size) {
      case 1:
        return this.rd8(lo, hi);
      case 2:
        return this.rd16(lo, hi);
      case 4:
        return this.rd32(lo, hi);
      default:
        return this.rd64(lo, hi);
    }
  }

  private rdSlow(lo: number, hi: number, size: number): number {
    let v = 0;
    for (let k = 0; k < size; k++) {
      const l = (lo + k) | 0;
      const h = l >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
      v |= this.bytes[this.addr(l, h, Access.Read)] << (8 * k);
    }
    return v >>> 0;
  }

  /** Writes a byte. */
  wr8(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.wMask) !== 0
    ) {
      this.bytes[this.tlbBase[i] | (lo & 4095)] = v;
      return;
    }
    this.bytes[this.addr(lo, hi, Access.Write)] = v;
  }

  /** Writes 16 bits. */
  wr16(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.wMask) !== 0 &&
      (lo & 4095) <= 4094
    ) {
      this.view.setUint16(this.tlbBase[i] | (lo & 4095), v, true);
      return;
    }
    this.wrSlow(lo, hi, v, 0, 2);
  }

  /** Writes 32 bits. */
  wr32(lo: number, hi: number, v: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.wMask) !== 0 &&
      (lo & 4095) <= 4092
    ) {
      this.view.setInt32(this.tlbBase[i] | (lo & 4095), v, true);
      return;
    }
    this.wrSlow(lo, hi, v, 0, 4);
  }

  /** Writes 64 bits given as halves. */
  wr64(lo: number, hi: number, vlo: number, vhi: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.wMask) !== 0 &&
      (lo & 4095) <= 4088
    ) {
      const pa = this.tlbBase[i] | (lo & 4095);
      this.view.setInt32(pa, vlo, true);
      this.view.setInt32(pa + 4, vhi, true);
      return;
    }
    this.wrSlow(lo, hi, vlo, vhi, 8);
  }

  /** Writes `size` bytes (8: `v` low half, `vhi` high half). */
  wr(lo: number, hi: number, size: number, v: number, vhi: number): void {
    switch (size) {
      case 1:
        this.wr8(lo, hi, v);
        return;
      case 2:
        this.wr16(lo, hi, v);
        return;
      case 4:
        this.wr32(lo, hi, v);
        return;
      default:
        this.wr64(lo, hi, v, vhi);
    }
  }

  /** Checks that `size` bytes at (lo, hi) are writable (read-modify-write operands). */
  probeWrite(lo: number, hi: number, size: number): void {
    const i = (lo >>> 12) & TLB_MASK;
    if (
      this.tlbLo[i] === (lo & -4096) &&
      this.tlbHi[i] === hi &&
      (this.tlbPerm[i] & this.wMask) !== 0 &&
      (lo & 4095) <= 4096 - size
    )
      return;
    this.addr(lo, hi, Access.Write);
    if ((lo & 4095) > 4096 - size) {
      const l = ((lo & -4096) + 4096) | 0;
      this.addr(l, l === 0 ? (hi + 1) | 0 : hi, Access.Write);
    }
  }

  private wrSlow(lo: number, hi: number, v: number, vhi: number, size: number): void {
    // Translate both pages before writing any byte, so a fault leaves memory unchanged.
    const pa0 = this.addr(lo, hi, Access.Write);
    const split = 4096 - (lo & 4095);
    let pa1 = 0;
    if (split < size) {
      // The second page is checked at its first byte (that is what CR2 reports on a fault).
      const l = ((lo & -4096) + 4096) | 0;
      pa1 = this.addr(l, l === 0 ? (hi + 1) | 0 : hi, Access.Write);
    }
    for (let k = 0; k < size; k++) {
      const b = k < 4 ? v >>> (8 * k) : vhi >>> (8 * (k - 4));
      this.bytes[k < split ? pa0 + k : pa1 + (k - split)] = b;
    }
  }

  /** Reads an MSR at CPL 0: low half into `wide[0]`, high half into `hi`; false when not implemented. */
  readMsr(index: number): boolean {
    let lo = 0;
    let hi = 0;
    switch (index >>> 0) {
      case Msr.TSC: {
        const t = this.tscBase + this.retiredInRun * this.tscPerInstruction;
        lo = t % TWO32;
        hi = Math.floor(t / TWO32);
        break;
      }
      case Msr.EFER:
        lo = this.paging.efer;
        break;
      case Msr.STAR:
      case Msr.LSTAR:
      case Msr.CSTAR:
      case Msr.SFMASK:
      case Msr.TSC_AUX: {
        const k = index === Msr.TSC_AUX ? 4 : (index >>> 0) - Msr.STAR;
        lo = this.syscallMsrs[2 * k];
        hi = this.syscallMsrs[2 * k + 1];
        break;
      }
      case Msr.FS_BASE:
        lo = this.fsLo;
        hi = this.fsHi;
        break;
      case Msr.GS_BASE:
        lo = this.gsLo;
        hi = this.gsHi;
        break;
      case Msr.KERNEL_GS_BASE:
        lo = this.kgsLo;
        hi = this.kgsHi;
        break;
      default:
        return false;
    }
    this.hi = hi | 0;
    this.wide[0] = lo | 0;
    return true;
  }

  /** Writes an MSR at CPL 0; false when not implemented or the value is invalid (#GP). */
  writeMsr(index: number, lo: number, hi: number): boolean {
    const canonical = (hi << 16) >> 16 === hi;
    switch (index >>> 0) {
      case Msr.TSC:
        this.tscBase = (hi >>> 0) * TWO32 + (lo >>> 0) - this.retiredInRun * this.tscPerInstruction;
        return true;
      case Msr.EFER:
        if (hi !== 0 || (lo & ~0xd01) !== 0) return false;
        this.efer = (lo & ~0x400) | (this.paging.efer & 0x400);
        return true;
      case Msr.STAR:
      case Msr.LSTAR:
      case Msr.CSTAR:
      case Msr.SFMASK:
      case Msr.TSC_AUX: {
        const k = index === Msr.TSC_AUX ? 4 : (index >>> 0) - Msr.STAR;
        if ((k === 1 || k === 2) && !canonical) return false;
        this.syscallMsrs[2 * k] = lo;
        this.syscallMsrs[2 * k + 1] = k === 3 || k === 4 ? 0 : hi;
        return true;
      }
      case Msr.FS_BASE:
        if (!canonical) return false;
        this.fsLo = lo;
        this.fsHi = hi;
        return true;
      case Msr.GS_BASE:
        if (!canonical) return false;
        this.gsLo = lo;
        this.gsHi = hi;
        return true;
      case Msr.KERNEL_GS_BASE:
        if (!canonical) return false;
        this.kgsLo = lo;
        this.kgsHi = hi;
        return true;
      default:
        return false;
    }
  }
}
