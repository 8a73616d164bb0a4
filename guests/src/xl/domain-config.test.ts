/**
 * xl's reading of a config (parse_config_data and libxl's defaults): defaults, how
 * cmdline/root/extra combine, memory and vCPU pairs, the shutdown actions, numbers as
 * strtol reads them, and a message with the line for each value xl or hvkit refuses.
 */
import { describe, expect, it } from "vitest";
import { parseXlConfig, XlConfigError } from "./config-file.js";
import { xlDomainConfig, type XlDomainConfig } from "./domain-config.js";

function domain(text: string): XlDomainConfig {
  return xlDomainConfig(parseXlConfig(text, "d.cfg"));
}

/** The message lines of the refusal of `text`. */
function refusal(text: string): string[] {
  try {
    domain(text);
  } catch (e) {
    expect(e).toBeInstanceOf(XlConfigError);
    return (e as XlConfigError).message.split("\n");
  }
  throw new Error("the config was accepted");
}

const MINIMAL = 'name = "g"\nkernel = "k.elf"\n';

describe("xlDomainConfig", () => {
  it("fills in xl's and libxl's defaults", () => {
    expect(domain(MINIMAL)).toEqual({
      name: "g",
      type: "pv",
      kernel: "k.elf",
      ramdisk: null,
      cmdline: "",
      memoryMiB: 32,
      maxMemoryMiB: 32,
      vcpus: 1,
      maxVcpus: 1,
      maxEventChannels: 1023,
      onShutdown: { poweroff: "destroy", reboot: "restart", watchdog: "destroy", crash: "destroy" },
      warnings: [],
      lines: { name: 1, kernel: 2 },
    });
  });

  it("takes memory and maxmem each as the other's default", () => {
    const both = domain(MINIMAL + "memory = 64\nmaxmem = 256\n");
    expect([both.memoryMiB, both.maxMemoryMiB]).toEqual([64, 256]);
    const mem = domain(MINIMAL + "memory = 64\n");
    expect([mem.memoryMiB, mem.maxMemoryMiB]).toEqual([64, 64]);
    const max = domain(MINIMAL + "maxmem = 48\n");
    expect([max.memoryMiB, max.maxMemoryMiB]).toEqual([48, 48]);
    expect(refusal(MINIMAL + "memory = 64\nmaxmem = 32\n")).toEqual([
      "d.cfg:4: maxmem < memory (32 < 64): xl.cfg(5) asks for maxmem >= memory",
    ]);
  });

  it("takes vcpus as online and maxvcpus as the domain's, each defaulting as xl does", () => {
    const v = domain(MINIMAL + "vcpus = 2\n");
    expect([v.vcpus, v.maxVcpus]).toEqual([2, 2]);
    const m = domain(MINIMAL + "maxvcpus = 4\n");
    expect([m.vcpus, m.maxVcpus]).toEqual([1, 4]);
    const both = domain(MINIMAL + "vcpus = 2\nmaxvcpus = 4\n");
    expect([both.vcpus, both.maxVcpus]).toEqual([2, 4]);
    expect(refusal(MINIMAL + "vcpus = 4\nmaxvcpus = 2\n")).toEqual([
      "d.cfg:4: maxvcpus < vcpus (2 < 4)",
    ]);
  });

  it("takes max_event_channels as the domain's max_evtchn_port, 0 and none as libxl's 1023", () => {
    expect(domain(MINIMAL + "max_event_channels = 4096\n").maxEventChannels).toBe(4096);
    expect(domain(MINIMAL + "max_event_channels = 0\n").maxEventChannels).toBe(1023);
    expect(refusal(MINIMAL + 'max_event_channels = "-1"\n')).toEqual([
      "d.cfg:3: max_event_channels = -1: expected 0 to 2147483647 ports",
    ]);
  });

  it("reads numbers as strtol with base 0 does, quoted or not", () => {
    expect(domain(MINIMAL + "memory = 0x40\n").memoryMiB).toBe(64);
    expect(domain(MINIMAL + "memory = 020\n").memoryMiB).toBe(16);
    expect(domain(MINIMAL + 'memory = " 48"\n').memoryMiB).toBe(48);
    expect(domain(MINIMAL + 'memory = "+48"\n').memoryMiB).toBe(48);
    expect(refusal(MINIMAL + "memory = 08\n")).toEqual([
      "d.cfg:3: parameter `memory' is not a valid number",
    ]);
    expect(refusal(MINIMAL + 'memory = "64k"\n')).toEqual([
      "d.cfg:3: parameter `memory' is not a valid number",
    ]);
    expect(refusal(MINIMAL + 'memory = ""\n')).toEqual([
      "d.cfg:3: parameter `memory' is not a valid number",
    ]);
    expect(refusal(MINIMAL + "memory = 99999999999999999999\n")).toEqual([
      "d.cfg:3: parameter `memory' could not be parsed as a number: Numerical result out of range",
    ]);
    expect(refusal(MINIMAL + 'memory = "-1"\nvcpus = 0\n')).toEqual([
      "d.cfg:3: memory = -1: expected 1 to 4095 MiB",
      "d.cfg:4: vcpus = 0: expected 1 to 128 vCPUs",
    ]);
    expect(refusal(MINIMAL + "memory = 4\nmemory += 4\n")).toEqual([
      "d.cfg:4: can't use += with numbers for parameter `memory'",
    ]);
    expect(refusal(MINIMAL + "memory = [ 4 ]\n")).toEqual([
      "d.cfg:3: parameter `memory' is a list but should be a single value",
    ]);
  });

  it("makes the command line from cmdline, or root and extra, as xl's parse_cmdline", () => {
    expect(domain(MINIMAL + 'root = "/dev/xvda1"\n').cmdline).toBe("root=/dev/xvda1");
    expect(domain(MINIMAL + 'extra = "quiet"\n').cmdline).toBe("quiet");
    expect(domain(MINIMAL + 'root = "/dev/xvda1 ro"\nextra = "quiet"\n').cmdline).toBe(
      "root=/dev/xvda1 ro quiet",
    );
    const both = domain(MINIMAL + 'root = "/dev/xvda1"\ncmdline = "console=hvc0"\n');
    expect(both.cmdline).toBe("console=hvc0");
    expect(both.warnings).toEqual([
      "d.cfg:4: warning: ignoring root= and extra= in favour of cmdline=",
    ]);
    expect(domain(MINIMAL + 'extra = "a"\nextra += " b"\n').cmdline).toBe("a b");
  });

  it("reads type as xl does (any prefix of pv, pvh, hvm) and checks builder against it", () => {
    expect(domain(MINIMAL + 'type = "pv"\n').type).toBe("pv");
    expect(domain(MINIMAL + 'type = "p"\n').type).toBe("pv");
    expect(domain(MINIMAL + 'type = "pvh"\n').type).toBe("pvh");
    expect(domain('name = "h"\ntype = "hvm"\n').type).toBe("hvm");
    expect(domain(MINIMAL + 'builder = "generic"\n').type).toBe("pv");
    expect(domain('name = "h"\nbuilder = "hvm"\n').type).toBe("hvm");
    expect(refusal(MINIMAL + 'type = "pvhx"\n')).toEqual(["d.cfg:3: Invalid domain type pvhx."]);
    expect(refusal(MINIMAL + 'type = "pv"\nbuilder = "hvm"\n')).toEqual([
      'd.cfg:4: Contradicting "builder" and "type" options specified.',
    ]);
  });

  it("takes the shutdown actions hvkit carries out and refuses the others clearly", () => {
    const d = domain(
      MINIMAL + 'on_poweroff = "preserve"\non_reboot = "destroy"\non_crash = "restart"\n',
    );
    expect(d.onShutdown).toEqual({
      poweroff: "preserve",
      reboot: "destroy",
      watchdog: "destroy",
      crash: "restart",
    });
    expect(
      refusal(
        MINIMAL +
          'on_crash = "coredump-restart"\non_reboot = "reboot"\non_watchdog = "soft-reset"\n',
      ),
    ).toEqual([
      'd.cfg:3: on_crash = "coredump-restart" is not implemented by hvkit (it carries out destroy, restart and preserve)',
      'd.cfg:4: Unknown on_reboot action "reboot" specified',
      'd.cfg:5: on_watchdog = "soft-reset" is not implemented by hvkit (it carries out destroy, restart and preserve)',
    ]);
  });

  it("needs a name and, for PV, a kernel; says so without a line", () => {
    expect(refusal("memory = 8\n")).toEqual([
      'd.cfg: Domain name must be specified (name = "...")',
      'd.cfg: a PV domain needs a kernel (kernel = "...")',
    ]);
    expect(refusal('name = ["a"]\nkernel = "k"\n')).toEqual([
      "d.cfg:1: parameter `name' is a list but should be a single value",
    ]);
    expect(refusal(MINIMAL + 'bootloader = "pygrub"\n')).toEqual([
      'd.cfg:3: bootloader is not supported by hvkit: give the kernel with kernel = "..."',
    ]);
  });

  it("warns about each key it does not act on, with its line", () => {
    const d = domain(MINIMAL + 'loader = "generic"\nvif = [ "bridge=xenbr0" ]\n');
    expect(d.warnings).toEqual([
      "d.cfg:3: warning: `loader' is not modelled by hvkit; ignored",
      "d.cfg:4: warning: `vif' is not modelled by hvkit; ignored",
    ]);
    expect(d.lines).toEqual({ name: 1, kernel: 2, loader: 3, vif: 4 });
  });

  it("reads XTF's generated config as xtf-runner's xl create does", () => {
    const xtf = [
      'name="test-pv64-xsa-296"',
      "",
      "vcpus=2 ",
      "",
      'type="pv"',
      'loader="generic" # Legacy for before Xen 4.10',
      "",
      "memory=128",
      'kernel="/usr/libexec/xtf/tests/xsa-296/test-pv64-xsa-296"',
      "",
      "# Test Variation Configuration:",
      'cmdline="hypercall"',
      "",
    ].join("\n");
    const d = domain(xtf);
    expect(d).toMatchObject({
      name: "test-pv64-xsa-296",
      type: "pv",
      vcpus: 2,
      maxVcpus: 2,
      memoryMiB: 128,
      cmdline: "hypercall",
      kernel: "/usr/libexec/xtf/tests/xsa-296/test-pv64-xsa-296",
    });
    expect(d.warnings).toEqual(["d.cfg:6: warning: `loader' is not modelled by hvkit; ignored"]);
  });
});
