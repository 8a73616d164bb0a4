/**
 * xenstored's per-domain quotas (tools/xenstored/domain.c `quotas[]`, `quota_adm[]`):
 * names as GET_QUOTA/SET_QUOTA spell them, and the defaults. A quota applies to
 * unprivileged domains only and is exceeded when the new total is `>=` the quota
 * (`domain_quota_val_exceeds`); 0 disables the check.
 *
 * @module
 */
import { XENSTORE_REL_PATH_MAX } from "@hvkit/core";

/** The accounted items (`enum accitem`), in xenstored's order. */
export enum XsQuota {
  /** Nodes owned by the domain ("nodes"): ENOSPC. */
  Nodes = 0,
  /** Watches of the connection ("watches"): ENOSPC. */
  Watches = 1,
  /** Replies queued but not yet in the ring ("outstanding"): reading stops. */
  Outstanding = 2,
  /** Bytes of nodes and watches ("memory", soft quota "soft-memory"): ENOMEM/EIO. */
  Memory = 3,
  /** Open transactions ("transactions"): ENOSPC. */
  Transactions = 4,
  /** Nodes touched by one transaction ("transaction-nodes"): ENOSPC. */
  TransactionNodes = 5,
  /** ACL entries per node ("node-permissions"): ENOSPC. */
  NodePermissions = 6,
  /** Path length below the domain's home ("path-max"): EINVAL. */
  PathMax = 7,
  /** Bytes of one node, 16 + 8 per ACL entry + value + child names ("node-size"): ENOSPC. */
  NodeSize = 8,
}

/** Quota names, indexed by {@link XsQuota}. */
export const XS_QUOTA_NAMES: readonly string[] = [
  "nodes",
  "watches",
  "outstanding",
  "memory",
  "transactions",
  "transaction-nodes",
  "node-permissions",
  "path-max",
  "node-size",
];

/** Default hard quotas, indexed by {@link XsQuota}. */
export const XS_QUOTA_DEFAULTS: readonly number[] = [
  1000,
  128,
  20,
  2 * 1024 * 1024 + 512 * 1024,
  10,
  1024,
  5,
  XENSTORE_REL_PATH_MAX,
  2048,
];

/** Default soft memory quota (2 MB; only "memory" has a soft quota). */
export const XS_SOFT_MEMORY_DEFAULT = 2 * 1024 * 1024;

/** Marks a quota slot that does not exist (`Q_VAL_DISABLED`, UINT_MAX). */
export const XS_QUOTA_DISABLED = 0xffffffff;
