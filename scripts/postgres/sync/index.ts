// PostgreSQL logical replication between blue's and green's databases: the library behind
// `npm run sync`, and what the paired-database switch calls behind its write fence:
//
//   startSync        publication on the source, subscription on the target (initial copy by default)
//   syncStatus       per-table state, apply worker, lag (bytes, seconds), slot health
//   waitForCatchUp   bounded wait until the target applied everything the source had committed
//   copySequences    sequence values source → target (logical replication does not carry them)
//   reverseSync      the same green → blue, copy_data = false, its own name, origin = none
//   stopSync         drop the subscription and its slot, verify no slot is left, drop the publication
//
// Every function takes a URL (opened and closed per call) or an open pg client (reused), so a
// caller on a hot path (the fence) can keep its connections.

export { startSync, reverseSync, SyncPreflightError } from "./start.js";
export type { StartSyncOptions, StartSyncResult, PlannedStatement } from "./start.js";
export { syncStatus, waitForCatchUp, tableState } from "./status.js";
export type { SyncStatus, StatusOptions, TableStatus, TableSyncState, SlotStatus, WaitOptions, WaitResult } from "./status.js";
export { copySequences } from "./sequences.js";
export type { SequenceCopy, SequenceAction, CopySequencesOptions } from "./sequences.js";
export { stopSync } from "./stop.js";
export type { StopSyncOptions, StopSyncResult } from "./stop.js";
export { SYNC_NAMES } from "./sql.js";
export { formatStatus } from "./format.js";
export { openClient, describeUrl, conninfoFromUrl } from "./connect.js";
export { redact } from "../../core/redact.js";
export type { Db } from "./connect.js";

import { SYNC_NAMES } from "./sql.js";

/** The direction's name: blue → green is the forward sync, green → blue the reverse one. */
export function syncName(direction: "blue-to-green" | "green-to-blue"): string {
  return direction === "blue-to-green" ? SYNC_NAMES.forward : SYNC_NAMES.reverse;
}
