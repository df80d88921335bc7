// AsgCapacity: the request shapes of DescribeAutoScalingGroups and SetDesiredCapacity, and how
// their answers and errors come out (aws-sdk-client-mock; behaviour is proved over the fake fleet).

import { AutoScalingClient, DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand } from "@aws-sdk/client-auto-scaling";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { AsgCapacity } from "../../scripts/aws/autoScaling.js";
import { AwsCallError, AwsThrottledError } from "../../scripts/aws/errors.js";

const asg = mockClient(AutoScalingClient);
const client = () => new AutoScalingClient({ region: "eu-west-1", credentials: { accessKeyId: "AKID", secretAccessKey: "x" } });
const names = { blue: "bluegreen-prod-blue-asg-1a2b", green: "bluegreen-prod-green-asg-3c4d" };

beforeEach(() => asg.reset());

describe("AsgCapacity", () => {
  it("reads one group by name and counts only InService instances", async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: names.green,
          MinSize: 1,
          MaxSize: 6,
          DesiredCapacity: 4,
          DefaultCooldown: 300,
          AvailabilityZones: ["eu-west-1a"],
          HealthCheckType: "ELB",
          CreatedTime: new Date(),
          Instances: [
            { InstanceId: "i-1", LifecycleState: "InService", AvailabilityZone: "eu-west-1a", HealthStatus: "Healthy", ProtectedFromScaleIn: false },
            { InstanceId: "i-2", LifecycleState: "InService", AvailabilityZone: "eu-west-1a", HealthStatus: "Healthy", ProtectedFromScaleIn: false },
            { InstanceId: "i-3", LifecycleState: "Pending", AvailabilityZone: "eu-west-1a", HealthStatus: "Healthy", ProtectedFromScaleIn: false },
            { InstanceId: "i-4", LifecycleState: "Terminating", AvailabilityZone: "eu-west-1a", HealthStatus: "Unhealthy", ProtectedFromScaleIn: false },
          ],
        },
      ],
    });
    const capacity = await new AsgCapacity(client(), names).capacity("green");
    expect(capacity).toEqual({ inService: 2, desired: 4, min: 1, max: 6 });
    const calls = asg.commandCalls(DescribeAutoScalingGroupsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ AutoScalingGroupNames: [names.green] });
  });

  it("sets desired capacity on the color's group, not honouring cooldowns (a deliberate change)", async () => {
    asg.on(SetDesiredCapacityCommand).resolves({});
    await new AsgCapacity(client(), names).setDesired("blue", 3);
    expect(asg.commandCalls(SetDesiredCapacityCommand)[0]!.args[0].input).toEqual({
      AutoScalingGroupName: names.blue,
      DesiredCapacity: 3,
      HonorCooldown: false,
    });
  });

  it("a missing group, a disabled color and AWS errors are named", async () => {
    asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
    await expect(new AsgCapacity(client(), names).capacity("blue")).rejects.toThrow(`DescribeAutoScalingGroups ${names.blue}: no such Auto Scaling group`);
    await expect(new AsgCapacity(client(), { ...names, green: null }).setDesired("green", 2)).rejects.toBeInstanceOf(AwsCallError);
    expect(asg.commandCalls(SetDesiredCapacityCommand)).toHaveLength(0);

    asg.on(SetDesiredCapacityCommand).rejects(
      Object.assign(new Error("New SetDesiredCapacity value 9 is above max value 6 for the AutoScalingGroup."), {
        name: "ValidationError",
        $metadata: { httpStatusCode: 400 },
      }),
    );
    await expect(new AsgCapacity(client(), names).setDesired("green", 9)).rejects.toThrow(
      `SetDesiredCapacity ${names.green} 9: ValidationError: New SetDesiredCapacity value 9 is above max`,
    );

    asg
      .on(DescribeAutoScalingGroupsCommand)
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "Throttling", $metadata: { httpStatusCode: 400, attempts: 3 } }));
    await expect(new AsgCapacity(client(), names).capacity("green")).rejects.toBeInstanceOf(AwsThrottledError);
  });

  it("describes its write for the plan", () => {
    expect(new AsgCapacity(client(), names).describeScale("green")).toBe(`SetDesiredCapacity ${names.green}`);
  });

  it("each call carries the signal of the moment (rollback --deadline), and a call cut by it is reported as the deadline's", async () => {
    asg.on(SetDesiredCapacityCommand).resolves({});
    const deadline = new AbortController();
    const capacity = new AsgCapacity(client(), names, { signal: () => deadline.signal });
    await capacity.setDesired("blue", 4);
    expect((asg.commandCalls(SetDesiredCapacityCommand)[0]!.args as unknown[])[1]).toMatchObject({ abortSignal: deadline.signal });
    asg.on(DescribeAutoScalingGroupsCommand).rejects(Object.assign(new Error("Request aborted"), { name: "AbortError" }));
    deadline.abort(new Error("rollback deadline"));
    const error = await capacity.capacity("blue").catch((e: unknown) => e);
    expect((asg.commandCalls(DescribeAutoScalingGroupsCommand)[0]!.args as unknown[])[1]).toMatchObject({ abortSignal: deadline.signal });
    expect(String(error)).toMatch(/DescribeAutoScalingGroups bluegreen-prod-blue-asg-1a2b/);
  });
});
