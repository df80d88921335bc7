// The AWS the guard's handler talks to, over aws-sdk-client-mock: SSM parameters held in a Map
// (create-only PutParameter without Overwrite, as SSM refuses it) and one ALB listener whose
// forward weights a ModifyListener changes and a DescribeListeners reads back.

import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand } from "@aws-sdk/client-ssm";
import { DescribeListenersCommand, ModifyListenerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import type { mockClient } from "aws-sdk-client-mock";

type Mock = ReturnType<typeof mockClient>;
type Weights = { blue: number; green: number };

/** GetParameter / PutParameter / DeleteParameter over `parameters`. */
export function mockSsmParameters(ssm: Mock, parameters: Map<string, string>): void {
  const notFound = () => Object.assign(new Error("not found"), { name: "ParameterNotFound", $metadata: { httpStatusCode: 400 } });
  ssm.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    if (!parameters.has(input.Name)) throw notFound();
    return { Parameter: { Name: input.Name, Value: parameters.get(input.Name), Version: 1 } };
  });
  ssm.on(PutParameterCommand).callsFake((input: { Name: string; Value: string; Overwrite?: boolean }) => {
    if (parameters.has(input.Name) && !input.Overwrite)
      throw Object.assign(new Error("exists"), { name: "ParameterAlreadyExists", $metadata: { httpStatusCode: 400 } });
    parameters.set(input.Name, input.Value);
    return { Version: 1 };
  });
  ssm.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
    if (!parameters.delete(input.Name)) throw notFound();
    return {};
  });
}

/** One listener forwarding to the two target groups: `onWrite` gets each ModifyListener's weights; DescribeListeners answers `current()`. */
export function mockListener(
  elb: Mock,
  listener: { arn: string; targetGroups: Record<"blue" | "green", string> },
  current: () => Weights,
  onWrite: (written: Weights) => void,
): void {
  const tg = listener.targetGroups;
  elb.on(ModifyListenerCommand).callsFake((input: { DefaultActions: { ForwardConfig: { TargetGroups: { TargetGroupArn: string; Weight: number }[] } }[] }) => {
    const groups = input.DefaultActions[0]!.ForwardConfig.TargetGroups;
    onWrite({ blue: groups.find((g) => g.TargetGroupArn === tg.blue)!.Weight, green: groups.find((g) => g.TargetGroupArn === tg.green)!.Weight });
    return {};
  });
  elb.on(DescribeListenersCommand).callsFake(() => ({
    Listeners: [
      {
        ListenerArn: listener.arn,
        DefaultActions: [
          {
            Type: "forward",
            ForwardConfig: {
              TargetGroups: [
                { TargetGroupArn: tg.blue, Weight: current().blue },
                { TargetGroupArn: tg.green, Weight: current().green },
              ],
              TargetGroupStickinessConfig: { Enabled: false },
            },
          },
        ],
      },
    ],
  }));
}
