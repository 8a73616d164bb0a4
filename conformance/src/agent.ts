/**
 * The host side of the conformance guest agent (see core's `agent.ts` for the protocol):
 * boots an arch's agent image in a cell's role, becomes its domain's kernel service, and
 * turns each request a test makes — a hypercall, a read or write of guest memory, a
 * timestamp, an illegal instruction — into a turn of the machine, so test logic written
 * once in TypeScript runs on every arch through that arch's real paths.
 *
 * Each vCPU of the agent is, at any moment, *parked* (waiting in the kernel service call,
 * paused, for a request), *busy* (carrying one out) or not started. A request on one
 * vCPU runs the machine until that vCPU parks again; other vCPUs with requests in flight
 * keep running meanwhile ({@link Agent.begin} starts a request without waiting, for tests
 * in which vCPUs wait for each other).
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import {
  AGENT_DATA_BYTES,
  AGENT_DATA_OFFSET,
  AGENT_MAGIC,
  AGENT_MAILBOX,
  AGENT_PROTOCOL_VERSION,
  AgentOp,
  AgentStatus,
  ArchHookMissingError,
  HvkitError,
  Hypercall,
  MemoryOp,
  XEN_MACHPHYS_MAPPING,
  SCHED_SHUTDOWN,
  SchedOp,
  StructRef,
  VCPU_INFO,
  VCPU_TIME_INFO,
  type ShutdownReason,
  copyFromGuest,
  copyToGuest,
  type AgentBootReport,
  type AgentIo,
  type ArchPlugin,
  type DataModel,
  type GuestAgent,
  type GuestBootInfo,
  type GuestTrap,
  type HypercallArgs,
  type KernelService,
  type StructDef,
  type StructLayout,
  type Vcpu,
} from "@hvkit/core";
import {
  startGuest,
  type BootRole,
  type DomUConfigOption,
  type GuestRun,
  type GuestRunOptions,
  type GuestSession,
  type RunEnd,
} from "@hvkit/runner";

/** The agent did not answer as the protocol says (it never booted, hung, or its domain died). */
export class AgentError extends HvkitError {}

/** A request that was expected to complete ended in a guest trap. */
export class GuestTrapError extends HvkitError {
  /** @param trap - the trap. @param what - the request. */
  constructor(
    readonly trap: GuestTrap,
    what: string,
  ) {
    super(`${what} trapped: ${trap.detail} at pc ${trap.pc.toString(16)}`);
  }
}

/** How a request ended. */
export interface AgentReply {
  /** The request's result (sign-extended from 64 bits); 0 when it trapped. */
  readonly result: bigint;
  /** The trap it ended in, if it did. */
  readonly trap: GuestTrap | null;
  /** For a read: the bytes read. */
  readonly data: Uint8Array | null;
}

/** Options of {@link Agent.boot}. */
export interface AgentBootOptions extends Partial<
  Pick<
    GuestRunOptions,
    "cmdline" | "memoryMiB" | "vcpus" | "consoleInput" | DomUConfigOption | "pvLinearPt"
  >
> {
  /** How the agent's domain is built: the initial domain, or a domU under the built-in dom0. */
  readonly role?: BootRole;
  /** Guest instructions one request may take before it counts as hung (default 20 million). */
  readonly requestBudget?: number;
}

/** Where the machine-to-physical table is mapped (`struct xen_machphys_mapping`). */
export interface MachphysMapping {
  /** Its first guest virtual address (v_start). */
  readonly start: bigint;
  /** The end of its mapping (v_end). */
  readonly end: bigint;
  /** The largest machine frame it translates (max_mfn). */
  readonly maxFrame: bigint;
}

/** Field values for {@link Agent.writeStruct}: paths to integers or strings. */
export type StructValues = Readonly<Record<string, number | bigint | string>>;

type VcpuState = "absent" | "parked" | "busy";

interface VcpuSlot {
  state: VcpuState;
  mailbox: bigint;
  vcpu: Vcpu | null;
  what: string;
  dataLength: number;
  op: AgentOp;
}

const DEFAULT_REQUEST_BUDGET = 20_000_000;

/** One vCPU of the agent: requests on it, each run to completion. */
export class AgentVcpu {
  /** @param agent - the agent. @param id - the vCPU. */
  constructor(
    readonly agent: Agent,
    readonly id: number,
  ) {}

  /** Makes hypercall `nr` through the arch's normal path; returns its result. */
  hypercall(nr: number, ...args: (bigint | number)[]): bigint {
    return this.agent.complete(this.agent.begin(this.id, AgentOp.Hypercall, [nr, ...args]));
  }

  /** As {@link AgentVcpu.hypercall}, with the bare hypercall instruction. */
  hypercallDirect(nr: number, ...args: (bigint | number)[]): bigint {
    return this.agent.complete(this.agent.begin(this.id, AgentOp.HypercallDirect, [nr, ...args]));
  }

  /** The arch's time counter. */
  timestamp(): bigint {
    return this.agent.complete(this.agent.begin(this.id, AgentOp.Timestamp, []));
  }

  /** Upcalls this vCPU has taken. */
  upcalls(): number {
    return Number(this.agent.mailboxField(this.id, "upcalls"));
  }
}

/**
 * A booted agent: the driver of one cell's guest. Implements {@link AgentIo} (the arch's
 * {@link GuestAgent} uses it), and offers tests the requests on vCPU 0 directly and on
 * other vCPUs through {@link Agent.vcpu}.
 */
export class Agent implements AgentIo, KernelService {
  /** The arch's half of the agent. */
  readonly spec: GuestAgent;
  /** The arch's data model. */
  readonly model: DataModel;
  /** The machine page size. */
  readonly pageSize: number;
  /** The running machine and domain. */
  readonly session: GuestSession;
  private readonly slots: VcpuSlot[] = [];
  private readonly mailbox: StructLayout;
  private bootReport: AgentBootReport | null = null;
  private scratchUsed = 0;
  private machphys: MachphysMapping | null = null;
  private lastEnd: RunEnd = "stopped";
  private readonly vcpus = new Map<number, AgentVcpu>();

  private constructor(
    readonly arch: ArchPlugin,
    container: DependencyContainer,
    private readonly options: AgentBootOptions,
  ) {
    this.spec = arch.guestAgent();
    this.model = arch.dataModel;
    this.mailbox = AGENT_MAILBOX.layout(arch.dataModel);
    const { role, requestBudget: _, ...boot } = options;
    this.session = startGuest(container, {
      arch,
      image: this.spec.image,
      role: role ?? "dom0",
      ...boot,
    });
    this.pageSize = this.session.machine.memory.pageSize;
    this.session.domain.kernelService = this;
  }

  /**
   * Boots `arch`'s agent (in a child container of `container`) and runs it until vCPU 0
   * waits for its first request. Throws {@link AgentError} when it never gets there, and
   * the arch's typed errors (a missing hook names itself) when it cannot be built.
   */
  static boot(
    container: DependencyContainer,
    arch: ArchPlugin,
    options: AgentBootOptions = {},
  ): Agent {
    const agent = new Agent(arch, container, options);
    agent.slots[0] = {
      state: "absent",
      mailbox: 0n,
      vcpu: null,
      what: "boot",
      dataLength: 0,
      op: AgentOp.Hypercall,
    };
    agent.waitParked(0, "boot");
    agent.bootReport = agent.readBootReport();
    return agent;
  }

  get boot(): AgentBootReport {
    if (this.bootReport === null) throw new AgentError("the agent has not booted");
    return this.bootReport;
  }

  /** vCPU `id` of the agent (started with {@link Agent.startVcpu} unless it is 0). */
  vcpu(id: number): AgentVcpu {
    let v = this.vcpus.get(id);
    if (v === undefined) {
      v = new AgentVcpu(this, id);
      this.vcpus.set(id, v);
    }
    return v;
  }

  // ----- requests on vCPU 0 (AgentIo) -----

  hypercall(nr: number, ...args: (bigint | number)[]): bigint {
    return this.vcpu(0).hypercall(nr, ...args);
  }

  /** As {@link Agent.hypercall}, with the bare hypercall instruction. */
  hypercallDirect(nr: number, ...args: (bigint | number)[]): bigint {
    return this.vcpu(0).hypercallDirect(nr, ...args);
  }

  read(va: bigint, length: number, vcpu = 0): Uint8Array {
    const r = this.tryRead(va, length, vcpu);
    if (!(r instanceof Uint8Array))
      throw new GuestTrapError(r, `read of ${length} bytes at ${hex(va)}`);
    return r;
  }

  /** Reads `length` bytes at `va`, or returns the trap the guest took. */
  tryRead(va: bigint, length: number, vcpu = 0): Uint8Array | GuestTrap {
    const out = new Uint8Array(length);
    for (let done = 0; done < length;) {
      const n = chunk(va + BigInt(done), length - done);
      const r = this.request(vcpu, AgentOp.Read, [va + BigInt(done), n], null, n);
      if (r.trap !== null) return r.trap;
      out.set(r.data!, done);
      done += n;
    }
    return out;
  }

  write(va: bigint, bytes: Uint8Array, vcpu = 0): void {
    const t = this.tryWrite(va, bytes, vcpu);
    if (t !== null) throw new GuestTrapError(t, `write of ${bytes.length} bytes at ${hex(va)}`);
  }

  /** Writes `bytes` at `va`; returns the trap the guest took, or null. */
  tryWrite(va: bigint, bytes: Uint8Array, vcpu = 0): GuestTrap | null {
    for (let done = 0; done < bytes.length;) {
      const n = chunk(va + BigInt(done), bytes.length - done);
      const r = this.request(
        vcpu,
        AgentOp.Write,
        [va + BigInt(done), n],
        bytes.subarray(done, done + n),
        0,
      );
      if (r.trap !== null) return r.trap;
      done += n;
    }
    return null;
  }

  /** Executes the arch's illegal instruction; returns the trap (null if none was taken). */
  illegal(vcpu = 0): GuestTrap | null {
    return this.request(vcpu, AgentOp.Illegal, [], null, 0).trap;
  }

  /** The arch's time counter, read by vCPU 0. */
  timestamp(): bigint {
    return this.vcpu(0).timestamp();
  }

  /**
   * System time in ns as vCPU `vcpu` computes it from its `vcpu_time_info` (xen.h "Current
   * system time"): the time counter's advance since `tsc_timestamp`, shifted by
   * `tsc_shift` and scaled by `tsc_to_system_mul` (a 32.32 fraction), added to
   * `system_time`; read again while the hypervisor is rewriting the record (odd
   * `version`) or rewrote it meanwhile.
   */
  systemTime(vcpu = 0): bigint {
    const layout = VCPU_TIME_INFO.layout(this.arch.dataModel);
    const info =
      this.vcpuInfo(vcpu) + BigInt(VCPU_INFO.layout(this.arch.dataModel).offsetOf("time"));
    for (;;) {
      const t = new StructRef(layout, new DataView(this.read(info, layout.size, vcpu).buffer), 0);
      const ticks = this.vcpu(vcpu).timestamp() - t.getBigInt("tsc_timestamp");
      const again = new StructRef(layout, new DataView(this.read(info, 4, vcpu).buffer), 0);
      const version = t.getNumber("version");
      if ((version & 1) !== 0 || again.getNumber("version") !== version) continue;
      const shift = t.getNumber("tsc_shift");
      const scaled = BigInt.asUintN(
        64,
        shift >= 0 ? ticks << BigInt(shift) : ticks >> BigInt(-shift),
      );
      return t.getBigInt("system_time") + ((scaled * t.getBigInt("tsc_to_system_mul")) >> 32n);
    }
  }

  // ----- typed memory -----

  /**
   * Reads the unsigned `bytes`-byte integer (1, 2, 4 or 8) at `va` in the arch's byte
   * order, on vCPU `vcpu`.
   */
  readUint(va: bigint, bytes: 1 | 2 | 4 | 8, vcpu = 0): bigint {
    const b = this.read(va, bytes, vcpu);
    return readUintFrom(b, bytes, this.model.littleEndian);
  }

  /** Writes `value` as a `bytes`-byte integer at `va` in the arch's byte order, on vCPU `vcpu`. */
  writeUint(va: bigint, bytes: 1 | 2 | 4 | 8, value: bigint | number, vcpu = 0): void {
    const b = new Uint8Array(bytes);
    const v = new DataView(b.buffer);
    const x = BigInt.asUintN(bytes * 8, BigInt(value));
    const le = this.model.littleEndian;
    if (bytes === 1) v.setUint8(0, Number(x));
    else if (bytes === 2) v.setUint16(0, Number(x), le);
    else if (bytes === 4) v.setUint32(0, Number(x), le);
    else v.setBigUint64(0, x, le);
    this.write(va, b, vcpu);
  }

  /** Reads the struct `def` at `va` (laid out by the arch's data model), on vCPU `vcpu`. */
  readStruct(def: StructDef, va: bigint, vcpu = 0): StructRef {
    const layout = def.layout(this.arch.dataModel);
    const bytes = this.read(va, layout.size, vcpu);
    return new StructRef(layout, new DataView(bytes.buffer), 0);
  }

  /** Lays out `def` with `values` (everything else zero) and writes it at `va`. */
  writeStruct(def: StructDef, va: bigint, values: StructValues): void {
    this.write(va, this.structBytes(def, values));
  }

  /** `def` laid out by the arch's data model with `values`, the rest zero. */
  structBytes(def: StructDef, values: StructValues): Uint8Array {
    const layout = def.layout(this.arch.dataModel);
    const bytes = new Uint8Array(layout.size);
    const view = new DataView(bytes.buffer);
    for (const [path, value] of Object.entries(values)) {
      if (typeof value === "string") layout.setString(view, 0, path, value);
      else layout.set(view, 0, path, value);
    }
    return bytes;
  }

  /**
   * Takes `bytes` of the agent's scratch memory (aligned to `align`, zeroed by the guest's
   * own stores) for the test's structs and buffers; the same addresses every run.
   */
  alloc(bytes: number, align = 8): bigint {
    const start = Math.ceil(this.scratchUsed / align) * align;
    if (start + bytes > this.boot.scratchLength) {
      throw new AgentError(
        `the agent's scratch memory (${this.boot.scratchLength} bytes) cannot hold ${bytes} more bytes`,
      );
    }
    this.scratchUsed = start + bytes;
    const va = this.boot.scratch + BigInt(start);
    this.write(va, new Uint8Array(bytes));
    return va;
  }

  /** Scratch memory holding `bytes` (see {@link Agent.alloc}). */
  place(bytes: Uint8Array, align = 8): bigint {
    const va = this.alloc(bytes.length, align);
    this.write(va, bytes);
    return va;
  }

  /** Scratch memory holding struct `def` laid out with `values`. */
  placeStruct(def: StructDef, values: StructValues): bigint {
    const layout = def.layout(this.arch.dataModel);
    return this.place(this.structBytes(def, values), Math.max(layout.align, 8));
  }

  /** The guest-handle value of a buffer at `va` (see {@link GuestAgent.guestHandle}). */
  handle(va: bigint): bigint {
    return this.spec.guestHandle(this, va);
  }

  /**
   * The frame the hypervisor knows the page at `va` by (`GuestAgent.frameOf`, feature
   * `frames`). An agent without it is a port's missing hook, reported as one.
   */
  frameOf(va: bigint): bigint {
    return this.member("frameOf")(this, va);
  }

  /** The pseudo-physical frame of the page at `va` (`GuestAgent.pfnOf`, feature `frames`). */
  pfnOf(va: bigint): bigint {
    return this.member("pfnOf")(this, va);
  }

  /**
   * Maps frame `frame` (of domain `owner`, default the agent's own) at window address `va`,
   * or unmaps it for null (`GuestAgent.mapFrame`, feature `frames`); the hypercall's result.
   */
  mapFrame(va: bigint, frame: bigint | null, writable: boolean, owner?: number): bigint {
    return this.member("mapFrame")(this, va, frame, writable, owner);
  }

  /** A member of the arch's GuestAgent, bound; a missing one is a missing hook of the port. */
  private member<K extends "frameOf" | "pfnOf" | "mapFrame">(name: K): NonNullable<GuestAgent[K]> {
    const f = this.spec[name];
    if (f === undefined) throw new ArchHookMissingError(this.arch.name, `guestAgent().${name}`);
    return f.bind(this.spec) as NonNullable<GuestAgent[K]>;
  }

  /** The domain's boot information as the guest reads it. */
  bootInfo(): GuestBootInfo {
    return this.spec.bootInfo(this);
  }

  /** The vcpu_info of vCPU `id`, as the agent uses it (its mailbox's `vcpu_info`). */
  vcpuInfo(id = 0): bigint {
    return this.mailboxField(id, "vcpu_info");
  }

  /** Tells vCPU `id`'s upcall handler where its vcpu_info now is (after register_vcpu_info). */
  setVcpuInfo(id: number, va: bigint): void {
    this.writeMailbox(id, "vcpu_info", va);
  }

  // ----- the machine-to-physical table (feature m2p) -----

  /**
   * Where the read-only machine-to-physical table is, as a PV kernel finds it
   * (XENMEM_machphys_mapping, public/memory.h). Throws {@link AgentError} if the call fails.
   */
  machphysMapping(): MachphysMapping {
    if (this.machphys === null) {
      const arg = this.alloc(XEN_MACHPHYS_MAPPING.layout(this.model).size);
      const rc = this.hypercall(Hypercall.memory_op, MemoryOp.machphys_mapping, this.handle(arg));
      if (rc !== 0n) throw new AgentError(`XENMEM_machphys_mapping returned ${rc}`);
      const m = this.readStruct(XEN_MACHPHYS_MAPPING, arg);
      this.machphys = {
        start: m.getBigInt("v_start"),
        end: m.getBigInt("v_end"),
        maxFrame: m.getBigInt("max_mfn"),
      };
    }
    return this.machphys;
  }

  /**
   * The pseudo-physical frame the M2P gives machine frame `frame`, read by the guest
   * (entries are C `unsigned long`s); null for INVALID_M2P_ENTRY (all ones).
   */
  m2p(frame: bigint): bigint | null {
    const size = this.model.long;
    const entry = this.readUint(this.machphysMapping().start + frame * BigInt(size), size);
    return entry === (1n << BigInt(size * 8)) - 1n ? null : entry;
  }

  // ----- secondary vCPUs -----

  /**
   * Starts vCPU `id` in the agent as a kernel does: VCPUOP_initialise with the arch's
   * context (from vCPU 0), then {@link Agent.upVcpu}. Throws {@link AgentError} when either
   * call fails.
   */
  startVcpu(id: number): AgentVcpu {
    const VCPUOP_initialise = 0;
    const HYPERVISOR_vcpu_op = 24;
    this.checkServed(id);
    const ctx = this.place(this.spec.secondaryVcpuContext(this, id), 16);
    const init = this.hypercall(HYPERVISOR_vcpu_op, VCPUOP_initialise, id, this.handle(ctx));
    if (init !== 0n) throw new AgentError(`VCPUOP_initialise(${id}) returned ${init}`);
    const up = this.upVcpu(id);
    if (up !== 0n) throw new AgentError(`VCPUOP_up(${id}) returned ${up}`);
    return this.vcpu(id);
  }

  /**
   * VCPUOP_up of vCPU `id` from vCPU 0, for a vCPU initialised with the arch's context
   * ({@link GuestAgent.secondaryVcpuContext}) by {@link Agent.startVcpu} or by the test
   * itself. Returns the call's result; when it is 0 and the vCPU has not run in the agent
   * yet, first waits until it asks for its first request. (A vCPU brought up again after
   * VCPUOP_down carries on with the request it had.)
   */
  upVcpu(id: number): bigint {
    const VCPUOP_up = 1;
    const HYPERVISOR_vcpu_op = 24;
    this.checkServed(id);
    const fresh = this.slots[id] === undefined;
    if (fresh) {
      this.slots[id] = {
        state: "absent",
        mailbox: 0n,
        vcpu: null,
        what: "start",
        dataLength: 0,
        op: AgentOp.Hypercall,
      };
    }
    const up = this.hypercall(HYPERVISOR_vcpu_op, VCPUOP_up, id);
    if (up !== 0n) {
      if (fresh) delete this.slots[id];
      return up;
    }
    if (fresh) this.waitParked(id, `start of vCPU ${id}`);
    return up;
  }

  /**
   * Whether vCPU `id` waits for a request (its last one is done); false while one is in
   * flight ({@link Agent.begin}) and for a vCPU that has not started. Runs nothing.
   */
  parked(id: number): boolean {
    const slot = this.slots[id];
    return slot !== undefined && isParked(slot);
  }

  private checkServed(id: number): void {
    if (id >= this.boot.mailboxCount)
      throw new AgentError(`the agent serves ${this.boot.mailboxCount} vCPUs, not ${id + 1}`);
  }

  // ----- the request engine -----

  /**
   * Posts a request to parked vCPU `vcpu` and lets it run, without waiting for the
   * result; {@link Agent.complete} or {@link Agent.finish} waits. Returns the vCPU.
   */
  begin(
    vcpu: number,
    op: AgentOp,
    args: readonly (bigint | number)[],
    data: Uint8Array | null = null,
    readLength = 0,
  ): number {
    const slot = this.slots[vcpu];
    if (slot === undefined || slot.state !== "parked") {
      throw new AgentError(
        `vCPU ${vcpu} of the agent is ${slot?.state ?? "not started"}, not waiting for a request`,
      );
    }
    if (args.length > 7)
      throw new AgentError(`a request takes at most 7 arguments, not ${args.length}`);
    const header = new Uint8Array(this.mailbox.offsetOf("result"));
    const view = new DataView(header.buffer);
    this.doorRead(slot, 0n, header);
    this.mailbox.set(view, 0, "op", op);
    for (let i = 0; i < 7; i++)
      this.mailbox.set(view, 0, `args.${i}`, BigInt.asUintN(64, BigInt(args[i] ?? 0)));
    this.doorWrite(slot, 0n, header);
    if (data !== null) this.doorWrite(slot, BigInt(AGENT_DATA_OFFSET), data);
    slot.state = "busy";
    slot.op = op;
    slot.dataLength = readLength;
    slot.what = `${AgentOp[op]}(${args.map((a) => (typeof a === "bigint" ? hex(a) : String(a))).join(", ")}) on vCPU ${vcpu}`;
    this.session.machine.unpauseVcpu(slot.vcpu!);
    return vcpu;
  }

  /** Waits for vCPU `vcpu`'s request; returns its result or throws on a trap. */
  complete(vcpu: number): bigint {
    const r = this.finish(vcpu);
    if (r.trap !== null) throw new GuestTrapError(r.trap, this.slots[vcpu].what);
    return r.result;
  }

  /** Waits for vCPU `vcpu`'s request and returns how it ended. */
  finish(vcpu: number): AgentReply {
    const slot = this.slots[vcpu];
    this.waitParked(vcpu, slot?.what ?? "request");
    const head = new Uint8Array(AGENT_DATA_OFFSET);
    this.doorRead(slot, 0n, head);
    const view = new DataView(head.buffer);
    const status = Number(this.mailbox.getBigInt(view, 0, "status"));
    if (status === AgentStatus.Trapped) {
      const trap = this.spec.describeTrap({
        vector: this.mailbox.getBigInt(view, 0, "trap.0"),
        code: this.mailbox.getBigInt(view, 0, "trap.1"),
        address: this.mailbox.getBigInt(view, 0, "trap.2"),
        pc: this.mailbox.getBigInt(view, 0, "trap.3"),
      });
      return { result: 0n, trap, data: null };
    }
    if (status !== AgentStatus.Done) {
      throw new AgentError(`the agent refused ${slot.what} (status ${status})`);
    }
    const result = BigInt.asIntN(64, this.mailbox.getBigInt(view, 0, "result"));
    let data: Uint8Array | null = null;
    if (slot.op === AgentOp.Read) {
      data = new Uint8Array(slot.dataLength);
      this.doorRead(slot, BigInt(AGENT_DATA_OFFSET), data);
    }
    return { result, trap: null, data };
  }

  /** One request, run to its end. */
  request(
    vcpu: number,
    op: AgentOp,
    args: readonly (bigint | number)[],
    data: Uint8Array | null,
    readLength: number,
  ): AgentReply {
    this.begin(vcpu, op, args, data, readLength);
    return this.finish(vcpu);
  }

  /** The agent's vCPU parks until its next request. */
  call(vcpu: Vcpu, args: HypercallArgs): number {
    const slot = this.slots[vcpu.id];
    if (slot === undefined) return -38; // a vCPU nobody started: an unknown hypercall (ENOSYS)
    slot.mailbox = args.u64(0);
    slot.vcpu = vcpu;
    slot.state = "parked";
    const machine = this.session.machine;
    machine.pauseVcpu(vcpu);
    machine.requestStop();
    return 0;
  }

  /**
   * Makes SCHEDOP_shutdown with `reason` from vCPU 0 — a call that does not return — and
   * runs the machine to its end; returns the whole run.
   */
  shutdown(reason: ShutdownReason): GuestRun {
    const arg = this.placeStruct(SCHED_SHUTDOWN, { reason });
    this.begin(0, AgentOp.Hypercall, [Hypercall.sched_op, SchedOp.shutdown, this.handle(arg)]);
    return this.runToEnd();
  }

  /**
   * Runs the machine on with no request outstanding until every domain has shut down (or
   * the budget ends, or it deadlocks), and returns the whole run — for tests whose last
   * request shuts the domain down. Parked vCPUs stay parked.
   */
  runToEnd(maxInstructions = this.requestBudget()): GuestRun {
    let spent = 0;
    for (;;) {
      const outcome = this.session.run(Math.max(1, maxInstructions - spent));
      spent += outcome.instructions;
      this.lastEnd = outcome.kind;
      if (outcome.kind !== "stopped" || spent >= maxInstructions) return this.result();
    }
  }

  /** What happened so far: console, hypervisor messages, shutdown, instructions. */
  result(): GuestRun {
    return this.session.result(this.lastEnd);
  }

  /** Reads a field of vCPU `id`'s mailbox through the hypervisor's door. */
  mailboxField(id: number, path: string): bigint {
    const slot = this.parkedSlot(id);
    const b = new Uint8Array(8);
    this.doorRead(slot, BigInt(this.mailbox.offsetOf(path)), b);
    return readUintFrom(b, 8, this.model.littleEndian);
  }

  private writeMailbox(id: number, path: string, value: bigint): void {
    const slot = this.parkedSlot(id);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, value), this.model.littleEndian);
    this.doorWrite(slot, BigInt(this.mailbox.offsetOf(path)), b);
  }

  private parkedSlot(id: number): VcpuSlot {
    const slot = this.slots[id];
    if (slot === undefined || slot.vcpu === null)
      throw new AgentError(`vCPU ${id} of the agent has not started`);
    return slot;
  }

  private requestBudget(): number {
    return this.options.requestBudget ?? DEFAULT_REQUEST_BUDGET;
  }

  private waitParked(id: number, what: string): void {
    const slot = this.slots[id];
    if (slot === undefined) throw new AgentError(`vCPU ${id} of the agent has not started`);
    const budget = this.requestBudget();
    let spent = 0;
    while (!isParked(slot)) {
      const outcome = this.session.run(Math.max(1, budget - spent));
      this.lastEnd = outcome.kind;
      spent += outcome.instructions;
      if (isParked(slot)) break;
      if (outcome.kind === "stopped" && spent < budget) continue;
      const run = this.result();
      const why =
        outcome.kind === "all-shutdown" || this.session.domain.isDead
          ? `the domain shut down (${run.hypervisorMessages.at(-1) ?? "no message"})`
          : outcome.kind === "deadlock"
            ? "every vCPU is blocked or waiting and no timer is pending"
            : `it took more than ${budget} instructions`;
      throw new AgentError(`${what} did not complete: ${why}`);
    }
  }

  private readBootReport(): AgentBootReport {
    const slot = this.slots[0];
    const head = new Uint8Array(AGENT_DATA_OFFSET);
    this.doorRead(slot, 0n, head);
    const v = new DataView(head.buffer);
    const m = this.mailbox;
    const magic = m.getBigInt(v, 0, "magic");
    const version = m.getBigInt(v, 0, "version");
    if (magic !== AGENT_MAGIC || version !== AGENT_PROTOCOL_VERSION) {
      throw new AgentError(
        `the ${this.arch.name} agent's mailbox at ${hex(slot.mailbox)} has magic ${hex(magic)} version ${version}, expected ${hex(AGENT_MAGIC)} version ${AGENT_PROTOCOL_VERSION}`,
      );
    }
    const g = (p: string): bigint => m.getBigInt(v, 0, `boot.${p}`);
    return {
      startInfo: g("start_info"),
      sharedInfo: g("shared_info"),
      hypercallPage: g("hypercall_page"),
      scratch: g("scratch"),
      scratchLength: Number(g("scratch_len")),
      window: g("window"),
      windowLength: Number(g("window_len")),
      apEntry: g("ap_entry"),
      mailboxCount: Number(g("mailbox_count")),
      bootArg: g("boot_arg"),
      arch: [0, 1, 2, 3].map((i) => g(`arch.${i}`)),
    };
  }

  private doorRead(slot: VcpuSlot, offset: bigint, into: Uint8Array): void {
    if (copyFromGuest(slot.vcpu!, slot.mailbox + offset, into) !== 0) {
      throw new AgentError(`the agent's mailbox at ${hex(slot.mailbox)} is not mapped`);
    }
  }

  private doorWrite(slot: VcpuSlot, offset: bigint, bytes: Uint8Array): void {
    if (copyToGuest(slot.vcpu!, slot.mailbox + offset, bytes) !== 0) {
      throw new AgentError(`the agent's mailbox at ${hex(slot.mailbox)} is not writable`);
    }
  }
}

/** Bytes of the Read/Write request starting at `_va`: up to the data buffer's size (a multiple of 8). */
function chunk(_va: bigint, remaining: number): number {
  return Math.min(remaining, AGENT_DATA_BYTES);
}

/** Whether `slot` waits for a request (a function, so the compiler re-reads the state a run changed). */
function isParked(slot: VcpuSlot): boolean {
  return slot.state === "parked";
}

function readUintFrom(b: Uint8Array, bytes: number, le: boolean): bigint {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (bytes === 1) return BigInt(v.getUint8(0));
  if (bytes === 2) return BigInt(v.getUint16(0, le));
  if (bytes === 4) return BigInt(v.getUint32(0, le));
  return v.getBigUint64(0, le);
}

function hex(v: bigint): string {
  return `0x${BigInt.asUintN(64, v).toString(16)}`;
}
