// The baseline for `npm run bench:rollback`: the least a rollback can be, written the way anyone
// would with the SDK: one ModifyListener (blue 100 / green 0) per listener, then DescribeListeners
// until green reads 0 (bounded). No lock, no journal, no checks: what the real command costs on
// top of this is its safety. Usage: node dist/bench/bareSdkRollback.js OUTPUTS.json

import { DescribeListenersCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import { readFileSync } from "node:fs";

const outputs = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as {
  region: string;
  listenerArns: string[];
  targetGroupArns: { blue: string; green: string };
};
const client = new ElasticLoadBalancingV2Client({ region: outputs.region });
const action = {
  Type: "forward" as const,
  ForwardConfig: {
    TargetGroups: [
      { TargetGroupArn: outputs.targetGroupArns.blue, Weight: 100 },
      { TargetGroupArn: outputs.targetGroupArns.green, Weight: 0 },
    ],
  },
};
await Promise.all(outputs.listenerArns.map((arn) => client.send(new ModifyListenerCommand({ ListenerArn: arn, DefaultActions: [action] }))));
for (let attempt = 0; attempt < 50; attempt++) {
  const out = await client.send(new DescribeListenersCommand({ ListenerArns: outputs.listenerArns }));
  const greenZero = (out.Listeners ?? []).every((listener) =>
    (listener.DefaultActions ?? []).every((a) =>
      (a.ForwardConfig?.TargetGroups ?? []).every((t) => t.TargetGroupArn !== outputs.targetGroupArns.green || t.Weight === 0),
    ),
  );
  if (greenZero) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
