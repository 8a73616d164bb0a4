/**
 * What a conformance test is: a name, what it requires of a cell, and a body that runs in
 * a fresh machine.
 *
 * Tests live one per file in `conformance/src/tests/<area>/<name>.conformance.ts` and are
 * listed in `tests/index.ts`. The suffix is `.conformance.ts`, not `.test.ts`, on purpose:
 * vitest's `*.test.ts` glob is for unit tests of hvkit's own code, while a conformance
 * test is run by the matrix runner once per cell. Vitest still runs the whole suite
 * through the runner (`cli/src/suite.test.ts`, with the arches the command registers and
 * the committed baseline), so `npm test` fails when a cell regresses.
 *
 * Outcome rules (XTF's): a test returns SUCCESS or SKIP, or throws
 * {@link ConformanceFailure} (FAILURE: hvkit did the wrong thing). Any other exception is
 * an ERROR of that cell (the test could not run: a missing arch hook, a bad fixture, an
 * hvkit bug). Neither ever stops the runner.
 *
 * @module
 */
import type { DependencyContainer } from "tsyringe";
import type { ArchPlugin, GuestMode } from "@hvkit/core";
import type { XtfResult } from "./result.js";
import type { Agent, AgentBootOptions } from "./agent.js";
import type { DomUConfigOption, GuestRun, GuestRunOptions } from "@hvkit/runner";

/**
 * The role a guest plays in a cell: `dom0` the initial, privileged domain (SIF_INITDOMAIN;
 * its console is console_io), `domU` an unprivileged domain built by the built-in dom0's
 * toolstack (its console is the PV console ring). `driver` (a driver domain) is named for
 * later: no cell has it yet.
 */
export type GuestRole = "dom0" | "domU" | "driver";

/** The roles a guest can be booted in today (see {@link GuestRunOptions.role}). */
export type BootRole = Extract<GuestRole, "dom0" | "domU">;

/**
 * What a test needs of a cell. Every listed dimension must match; an omitted one matches
 * everything. Cells that do not match are not part of the matrix at all (the test does not
 * apply there), except `features`: a cell lacking a feature is a SKIP naming it.
 */
export interface Requirements {
  /** Arch names (`x86_64`, ...). */
  readonly arches?: readonly string[];
  /** Guest modes (`pv`, ...). */
  readonly modes?: readonly GuestMode[];
  /**
   * Guest sets (`hvkit-test`, `hvkit-c`, `xtf`, later OS adapters such as `linux`).
   * Omitted: `hvkit-test` only (the tests written once for every arch).
   */
  readonly guests?: readonly string[];
  /**
   * Roles the test is written for (`dom0`, `domU`). The cell's role decides how
   * {@link CellContext.boot} boots the guest, so a test that works in both roles omits this
   * and runs in both cells; one whose guest needs privilege (or console_io, which Xen's
   * default XSM policy keeps for the control domain) lists `dom0`.
   */
  readonly roles?: readonly GuestRole[];
  /** Arch features (e.g. `hypercall-page`); see {@link CellContext.features}. */
  readonly features?: readonly string[];
  /**
   * Our own compiled guests the test boots (`conformance/guests/<arch>/bin/<name>.elf`).
   * Each arch builds the guests its compiler and port can run (`conformance/guests/build.sh`),
   * so the built images are what an arch declares: a cell whose arch has not built one of
   * them is UNSUPPORTED, naming it, rather than an ERROR.
   */
  readonly compiledGuests?: readonly string[];
}

/** One point of the matrix: where a test runs. */
export interface Cell {
  /** Arch name. */
  readonly arch: string;
  /** Guest mode. */
  readonly mode: GuestMode;
  /** Guest set. */
  readonly guest: string;
  /** Role of the guest under test. */
  readonly role: GuestRole;
}

/** What a test body is given. Everything in it belongs to this cell alone. */
export interface CellContext {
  /** Where the test runs. */
  readonly cell: Cell;
  /** The cell's arch plugin. */
  readonly arch: ArchPlugin;
  /** Arch features the cell offers (checked against {@link Requirements.features}). */
  readonly features: ReadonlySet<string>;
  /** A child DI container made for this cell only. */
  readonly container: DependencyContainer;
  /**
   * Boots `image` in a new machine in this cell's container, in the cell's role: as the
   * initial domain in a `dom0` cell, as a domU (domain 1) under the built-in dom0 in a `domU`
   * cell. Runs it until every domain has shut down, the instruction budget ends or it
   * deadlocks. Arch, mode and role come from the cell; a role that cannot be booted yet
   * (`driver`) throws (an ERROR of the cell).
   */
  boot(image: Uint8Array, options?: CellBootOptions): GuestRun;
  /**
   * Boots the cell's arch's conformance guest agent (`ArchPlugin.guestAgent`) in a new
   * machine in this cell's container, in the cell's role, and returns it waiting for its
   * first request. A port without an agent, or whose hooks are stubs, throws here (an
   * ERROR naming the hook).
   */
  bootAgent(options?: Omit<AgentBootOptions, "role">): Agent;
  /**
   * The bytes of one of our own test guests, built for this cell's arch
   * (`conformance/guests/<arch>/bin/<name>.elf`). Throws (an ERROR of the cell) if it is
   * missing.
   */
  guestImage(name: string): Uint8Array;
  /** The console output that guest must print (`conformance/guests/<arch>/expected/<name>.txt`). */
  guestExpectedOutput(name: string): string;
  /** Adds a line to the cell's log (shown in reports for failed cells). */
  log(line: string): void;
}

/**
 * Options of {@link CellContext.boot}; the rest of a boot (arch, mode, role) comes from
 * the cell. `ramdisk` is the initial ramdisk in either role. `consoleInput` and what the toolstack is told about the domain (`name`,
 * `domainMemoryMiB`, `domainMaxMemoryMiB`, `onlineVcpus`, `maxEventChannels`,
 * `onShutdown`: an xl config's settings) apply in `domU` cells only: a dom0's console_io
 * has no input, and dom0 is built by the hypervisor, not by xl.
 */
export type CellBootOptions = Partial<
  Pick<
    GuestRunOptions,
    | "cmdline"
    | "ramdisk"
    | "memoryMiB"
    | "maxInstructions"
    | "vcpus"
    | "consoleInput"
    | DomUConfigOption
    | "onShutdown"
  >
>;

/**
 * What a test body returns when it does not throw. Our own tests return SUCCESS or SKIP
 * and throw on failure; a test that relays a guest's own verdict (an XTF image) may
 * return any of XTF's results.
 */
export interface TestOutcome {
  /** The result. */
  readonly result: XtfResult;
  /** What was checked (SUCCESS), why it does not apply (SKIP), or what went wrong. */
  readonly message?: string;
}

/** A conformance test. */
export interface ConformanceTest {
  /** Area (the folder under `tests/`), e.g. `boot`, `abi`, `hypercall`. */
  readonly area: string;
  /** Name within the area, e.g. `hello`. The test's id is `area/name`. */
  readonly name: string;
  /** One sentence: the behaviour checked, as Xen defines it. */
  readonly description: string;
  /** Which cells the test applies to. */
  readonly requires: Requirements;
  /**
   * Optional: why `cell`, one the requirements match, is declined by design, or null when
   * the test runs there. A declined cell is listed as UNSUPPORTED with the reason and never
   * run (a guest adapter's boot test declines the cells its adapter does not support).
   * Must answer from the cell alone; no machine exists yet.
   */
  declines?(cell: Cell): string | null;
  /**
   * The body. Runs once per matching cell, in a fresh child container. Returns
   * {@link TestOutcome}; throws {@link ConformanceFailure} when hvkit misbehaves.
   */
  run(ctx: CellContext): TestOutcome | Promise<TestOutcome>;
}

/** Thrown by a test body when hvkit did the wrong thing: the cell is a FAILURE. */
export class ConformanceFailure extends Error {
  /** @param message - what was expected and what happened instead. */
  constructor(message: string) {
    super(message);
    this.name = "ConformanceFailure";
  }
}

/** The SUCCESS outcome, with what was checked. */
export function success(message?: string): TestOutcome {
  return message === undefined ? { result: "SUCCESS" } : { result: "SUCCESS", message };
}

/** The SKIP outcome, with why the test does not apply. */
export function skip(message: string): TestOutcome {
  return { result: "SKIP", message };
}

/**
 * Asserts `actual` equals `expected` (strict equality, or element-wise for arrays of
 * primitives); throws {@link ConformanceFailure} naming `what` otherwise.
 */
export function expectEqual<T>(what: string, actual: T, expected: T): void {
  const same =
    Array.isArray(actual) && Array.isArray(expected)
      ? actual.length === expected.length && actual.every((v, i) => Object.is(v, expected[i]))
      : Object.is(actual, expected);
  if (!same) {
    throw new ConformanceFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

function show(value: unknown): string {
  if (typeof value === "string")
    return JSON.stringify(value.length > 400 ? value.slice(0, 400) + "…" : value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`;
  return String(value);
}

/** The id of a test: `area/name`. */
export function testId(test: Pick<ConformanceTest, "area" | "name">): string {
  return `${test.area}/${test.name}`;
}

/** The id of a cell: `arch/mode/guest/role`. */
export function cellId(cell: Cell): string {
  return `${cell.arch}/${cell.mode}/${cell.guest}/${cell.role}`;
}
