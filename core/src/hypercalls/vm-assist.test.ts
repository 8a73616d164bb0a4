import { describe, expect, it } from "vitest";
import { Hypercall, VmAssistCmd, VmAssistType } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import { addFakeDomain, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { TEST_ILP32 } from "../testing/data-models.js";

const va = Hypercall.vm_assist;
const PV64_TYPES = [0, 1, 2, 3, 4, 5, 32]; // Xen's PV64_VM_ASSIST_MASK

describe("vm_assist", () => {
  it("enables and disables the arch's allowed types, including type 32", () => {
    const { machine } = fakeMachine({ vmAssistTypes: PV64_TYPES });
    const d = addFakeDomain(machine);
    const other = addFakeDomain(machine);
    expect(hypercall(d, va, [VmAssistCmd.enable, VmAssistType.writable_pagetables])).toBe(0);
    expect(hypercall(d, va, [VmAssistCmd.enable, VmAssistType.m2p_strict])).toBe(0);
    expect(d.hasVmAssist(VmAssistType.writable_pagetables)).toBe(true);
    expect(d.hasVmAssist(VmAssistType.m2p_strict)).toBe(true);
    expect(d.vmAssist).toBe(2 ** 32 + 4);
    expect(other.vmAssist).toBe(0);
    expect(hypercall(d, va, [VmAssistCmd.enable, VmAssistType.writable_pagetables])).toBe(0); // idempotent
    expect(hypercall(d, va, [VmAssistCmd.disable, VmAssistType.m2p_strict])).toBe(0);
    expect(hypercall(d, va, [VmAssistCmd.disable, VmAssistType.m2p_strict])).toBe(0);
    expect(d.vmAssist).toBe(4);
  });

  it("a type not allowed, or >= BITS_PER_LONG, is -EINVAL whatever the command", () => {
    const { machine } = fakeMachine({ vmAssistTypes: PV64_TYPES });
    const d = addFakeDomain(machine);
    for (const type of [6, 31, 33, 63, 64, 0xffffffff]) {
      expect(hypercall(d, va, [VmAssistCmd.enable, type])).toBe(-Errno.EINVAL);
      expect(hypercall(d, va, [7, type])).toBe(-Errno.EINVAL);
    }
    expect(d.vmAssist).toBe(0);
  });

  it("with a valid type, an unknown command is -ENOSYS (Xen checks the type first)", () => {
    const { machine } = fakeMachine({ vmAssistTypes: PV64_TYPES });
    const d = addFakeDomain(machine);
    expect(hypercall(d, va, [2, 0])).toBe(-Errno.ENOSYS);
    expect(hypercall(d, va, [0xffffffff, 0])).toBe(-Errno.ENOSYS);
    expect(d.vmAssist).toBe(0);
  });

  it("an arch without the hook allows nothing; a 32-bit arch stops at type 31", () => {
    const none = fakeMachine();
    expect(hypercall(addFakeDomain(none.machine), va, [0, 2])).toBe(-Errno.EINVAL);
    const pv32 = fakeMachine({ wordBits: 32, dataModel: TEST_ILP32, vmAssistTypes: PV64_TYPES });
    const d = addFakeDomain(pv32.machine);
    expect(hypercall(d, va, [0, 32])).toBe(-Errno.EINVAL);
    expect(hypercall(d, va, [0, 1])).toBe(0);
  });
});
