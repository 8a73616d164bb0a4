import { describe, expect, it } from "vitest";
import { GrantStatus, GrantTableOp, Hypercall } from "../abi/numbers.js";
import { Errno } from "../errno.js";
import {
  readGuestU16,
  readGuestU32,
  readGuestU64,
  writeGuestU16,
  writeGuestU32,
  writeGuestU64,
} from "../guest-memory.js";
import { addFakeDomain, DATA_VA, fakeMachine, hypercall } from "../testing/fake-machine.js";
import { MAX_GRANT_FRAMES } from "./grant-table.js";

const DOMID_SELF = 0x7ff0;

describe("grant_table_op (v1: setup_table, query_size)", () => {
  it("query_size reports the initial frame and Xen's default maximum", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { privileged: true, pages: 2 });
    const v = d.vcpus[0];
    writeGuestU16(v, DATA_VA, DOMID_SELF);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.query_size, DATA_VA, 1])).toBe(0);
    expect(readGuestU32(v, DATA_VA + 4n)).toBe(1);
    expect(readGuestU32(v, DATA_VA + 8n)).toBe(MAX_GRANT_FRAMES);
    expect(readGuestU16(v, DATA_VA + 12n)).toBe(GrantStatus.okay);
  });

  it("setup_table grows the table and lists frames the domain may map", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { privileged: false, pages: 2 });
    const v = d.vcpus[0];
    writeGuestU16(v, DATA_VA, DOMID_SELF);
    writeGuestU32(v, DATA_VA + 4n, 2);
    writeGuestU16(v, DATA_VA + 8n, 0x7777);
    writeGuestU64(v, DATA_VA + 16n, DATA_VA + 0x100n);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 1])).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(GrantStatus.okay);
    const f0 = Number(readGuestU64(v, DATA_VA + 0x100n));
    const f1 = Number(readGuestU64(v, DATA_VA + 0x108n));
    expect(f0).not.toBe(f1);
    expect(machine.memory.frameTable.owner[f0]).toBe(d.id);
    expect(machine.memory.frameTable.owner[f1]).toBe(d.id);
    // Asking again returns the same frames.
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 1])).toBe(0);
    expect(Number(readGuestU64(v, DATA_VA + 0x100n))).toBe(f0);
  });

  it("returns Xen's errors: counts, bad pointers, too many frames, unknown domains, other commands", () => {
    const { machine } = fakeMachine();
    const d = addFakeDomain(machine, { privileged: false, pages: 2 });
    const v = d.vcpus[0];
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 2])).toBe(
      -Errno.EINVAL,
    );
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.query_size, DATA_VA, 0])).toBe(
      -Errno.EINVAL,
    );
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, -1])).toBe(
      -Errno.EINVAL,
    );
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, 0x9990000n, 1])).toBe(
      -Errno.EFAULT,
    );
    writeGuestU16(v, DATA_VA, DOMID_SELF);
    writeGuestU32(v, DATA_VA + 4n, MAX_GRANT_FRAMES + 1);
    writeGuestU64(v, DATA_VA + 16n, DATA_VA + 0x100n);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 1])).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(0x10000 + GrantStatus.general_error);
    writeGuestU16(v, DATA_VA, 77); // no such domain (and not privileged)
    writeGuestU32(v, DATA_VA + 4n, 1);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 1])).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(0x10000 + GrantStatus.bad_domain);
    writeGuestU16(v, DATA_VA, DOMID_SELF); // a frame list that cannot be written
    writeGuestU64(v, DATA_VA + 16n, 0x9990000n);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.setup_table, DATA_VA, 1])).toBe(0);
    expect(readGuestU16(v, DATA_VA + 8n)).toBe(0x10000 + GrantStatus.bad_virt_addr);
    expect(hypercall(d, Hypercall.grant_table_op, [GrantTableOp.set_version, DATA_VA, 1])).toBe(
      -Errno.ENOSYS,
    );
  });
});
