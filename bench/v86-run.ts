/**
 * One run of a multiboot bench kernel under v86 (the npm package), in a process of its
 * own so its peak RSS is v86's: bench/c-guests.ts spawns it once per run.
 *
 *     node --conditions=source --import tsx bench/v86-run.ts <bios> <vgabios> <kernel> <passes>
 *
 * v86 boots the BIOS (SeaBIOS), which starts the kernel through v86's multiboot option
 * ROM with `<passes>` as its command line; the kernel writes its output to COM1. The run
 * ends when the bench's last line (`bench <work>: <N> passes, fnv-1a 0x<hash>`) has come
 * out, or after a time limit. Prints one line of JSON ({@link V86Run}) on stdout.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** What one v86 run reports (the JSON line this script prints). */
export interface V86Run {
  /** Everything the kernel wrote to COM1 (Latin-1). */
  readonly output: string;
  /** Whether the bench's last line came out. */
  readonly finished: boolean;
  /** Seconds from creating the emulator to the kernel's first byte (BIOS boot, loading). */
  readonly startupSeconds: number;
  /** Seconds from the first byte to the last line: the work. */
  readonly runSeconds: number;
  /** v86's own instruction counter over the same span (its `get_instruction_counter`). */
  readonly instructions: number;
  /** Peak resident set of this process, KiB (getrusage's ru_maxrss). */
  readonly peakRssKiB: number;
}

/** The bench's last line (common/bench.c). */
export const BENCH_LAST_LINE = /bench \S+: \d+ passes, fnv-1a 0x[0-9a-f]+\n$/;

/** The longest a run may take, seconds. */
const TIME_LIMIT_SECONDS = 1800;

/** The bytes of `path` as an ArrayBuffer of their own (what v86 takes). */
function buffer(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.length !== 4) {
    process.stderr.write("usage: v86-run.ts <bios> <vgabios> <kernel> <passes>\n");
    return 2;
  }
  const [bios, vgaBios, kernel, passes] = argv;
  const { V86 } = await import("v86");
  const wasm = createRequire(import.meta.url).resolve("v86/build/v86.wasm");
  const t0 = performance.now();
  let first = 0;
  let firstCount = 0;
  let output = "";
  const emulator = new V86({
    wasm_path: wasm,
    bios: { buffer: buffer(bios) },
    vga_bios: { buffer: buffer(vgaBios) },
    multiboot: { buffer: buffer(kernel) },
    cmdline: passes,
    memory_size: 64 * 1024 * 1024,
    autostart: true,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  });
  const run = await new Promise<V86Run>((resolve) => {
    const finish = (finished: boolean) => {
      clearTimeout(timer);
      const end = performance.now();
      const count = emulator.get_instruction_counter();
      resolve({
        output,
        finished,
        startupSeconds: ((first || end) - t0) / 1000,
        runSeconds: first ? (end - first) / 1000 : 0,
        // The counter is 32 bits wide: the difference modulo 2^32.
        instructions: (count - firstCount) >>> 0,
        peakRssKiB: process.resourceUsage().maxRSS,
      });
    };
    const timer = setTimeout(() => finish(false), TIME_LIMIT_SECONDS * 1000);
    emulator.add_listener("serial0-output-byte", (byte: number) => {
      if (first === 0) {
        first = performance.now();
        firstCount = emulator.get_instruction_counter();
      }
      output += String.fromCharCode(byte);
      if (byte === 10 && BENCH_LAST_LINE.test(output)) finish(true);
    });
  });
  await emulator.destroy();
  process.stdout.write(JSON.stringify(run) + "\n");
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
  // v86 may leave timers behind; the run is over.
  process.exit();
}
