// The advance Lambda's BLUEGREEN_ORCHESTRATOR variable: the stack outputs its ports are built from
// (ARNs, names and endpoints only, never a secret), as the JSON scripts/app/orchestrator/awsAdvance.ts
// reads. A shared-database stack has no write fence; a paired one carries the fence rules among
// its outputs and the databases' part of the stack outputs (endpoints, secret ARNs, name) under
// `paired`, the shape scripts/postgres/stackDatabases.ts reads.

import * as pulumi from "@pulumi/pulumi";
import type { PairedValues } from "./guard.js";
import type { OrchestratorArgs } from "./orchestrator.js";
import type { Color } from "./weights.js";

/** One output { blue, green } from a value per color. */
export const perColor = <T>(values: Record<Color, pulumi.Input<T>>) => pulumi.all([values.blue, values.green]).apply(([blue, green]) => ({ blue, green }));

/** The variable's value; the database instance ids and Auto Scaling group names are passed already joined per color, the paired values resolved. */
export function advanceEnvironment(
  args: Pick<OrchestratorArgs, "project" | "stack" | "region" | "outputs" | "paired">,
  instanceIds: pulumi.Output<Record<Color, string | null>>,
  asgNames: pulumi.Output<Record<Color, string | null>>,
  pairedValues: pulumi.Output<PairedValues | null> = pulumi.output(null),
): pulumi.Output<string> {
  const outputs = args.outputs;
  return pulumi
    .all([
      pulumi.output(outputs.listenerArns),
      perColor(outputs.targetGroupArns),
      perColor(outputs.targetGroupArnSuffixes),
      pulumi.output(outputs.albArnSuffix),
      pulumi.output(outputs.alarmNames),
      instanceIds,
      asgNames,
      pairedValues,
    ])
    .apply(([listenerArns, targetGroupArns, targetGroupArnSuffixes, albArnSuffix, alarmNames, databaseInstanceIds, groups, paired]) =>
      JSON.stringify({
        project: args.project,
        stack: args.stack,
        databaseMode: paired ? "paired" : "shared",
        outputs: {
          region: args.region,
          listenerArns,
          targetGroupArns,
          stickinessSeconds: outputs.stickinessSeconds,
          albArnSuffix,
          targetGroupArnSuffixes,
          alarmNames,
          databaseInstanceIds,
          fenceRuleArns: paired ? paired.fenceRuleArns : [],
          asgNames: groups,
        },
        ...(paired && args.paired
          ? {
              paired: {
                databaseEndpoints: paired.databaseEndpoints,
                databaseSecretArns: paired.databaseSecretArns,
                replicationSecretArns: paired.replicationSecretArns,
                databaseName: args.paired.databaseName,
              },
            }
          : {}),
      }),
    );
}
