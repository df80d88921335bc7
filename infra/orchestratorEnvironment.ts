// The advance Lambda's BLUEGREEN_ORCHESTRATOR variable: the stack outputs its ports are built from
// (ARNs and names only, no secret), as the JSON scripts/app/orchestrator/awsAdvance.ts reads. The
// orchestrator serves shared-database stacks and has no write fence.

import * as pulumi from "@pulumi/pulumi";
import type { OrchestratorArgs } from "./orchestrator.js";
import type { Color } from "./weights.js";

/** One output { blue, green } from a value per color. */
export const perColor = <T>(values: Record<Color, pulumi.Input<T>>) => pulumi.all([values.blue, values.green]).apply(([blue, green]) => ({ blue, green }));

/** The variable's value; the database instance ids and Auto Scaling group names are passed already joined per color. */
export function advanceEnvironment(
  args: Pick<OrchestratorArgs, "project" | "stack" | "region" | "outputs">,
  instanceIds: pulumi.Output<Record<Color, string | null>>,
  asgNames: pulumi.Output<Record<Color, string | null>>,
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
    ])
    .apply(([listenerArns, targetGroupArns, targetGroupArnSuffixes, albArnSuffix, alarmNames, databaseInstanceIds, groups]) =>
      JSON.stringify({
        project: args.project,
        stack: args.stack,
        databaseMode: "shared",
        outputs: {
          region: args.region,
          listenerArns,
          targetGroupArns,
          stickinessSeconds: outputs.stickinessSeconds,
          albArnSuffix,
          targetGroupArnSuffixes,
          alarmNames,
          databaseInstanceIds,
          fenceRuleArns: [],
          asgNames: groups,
        },
      }),
    );
}
