// The files of a sandbox run directory that more than one process reads and writes: the
// cutover's lock and journal and the weight record. The demo's engine (demo/engineRun.ts) and
// the guard's own process (guardMain.ts) open the same stores by these names, so both see one
// lock, one journal and one record, exactly as the CLI and the AWS guard share SSM parameters.

import { join } from "node:path";
import { FileJournal } from "./fileJournal.js";
import { FileLock } from "./fileLock.js";
import { FileOperatorRequests } from "./fileRequests.js";
import { LocalWeightRecorder } from "./weightFile.js";

export const RUN_DIRECTORY_FILES = {
  lock: "cutover.lock",
  journal: "cutover-journal.json",
  weights: "weights.json",
  requests: "operator-request.json",
} as const;

export function runDirectoryStores(runDir: string): { lock: FileLock; journal: FileJournal; recorder: LocalWeightRecorder; requests: FileOperatorRequests } {
  return {
    requests: new FileOperatorRequests(join(runDir, RUN_DIRECTORY_FILES.requests)),
    lock: new FileLock(join(runDir, RUN_DIRECTORY_FILES.lock)),
    journal: new FileJournal(join(runDir, RUN_DIRECTORY_FILES.journal)),
    recorder: new LocalWeightRecorder(join(runDir, RUN_DIRECTORY_FILES.weights)),
  };
}
