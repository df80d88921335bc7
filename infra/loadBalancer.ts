// The ALB, its listeners and rules.
//
//   HTTPS configured: :443 HTTPS (TLS 1.3 policy) = production listener; :80 redirects to :443.
//   otherwise:        :80 HTTP = production listener.
//
// On each production listener:
//   default action   weighted forward to both target groups (weights.ts, from the live weights parameter)
//   priority 1       write fence, declared inert (fence.ts)
//   priority 10/11   `<testHeader>: blue|green` → straight to that color
//
// Weight ownership (infra/liveWeights.ts): the forward action is rebuilt on every
// `pulumi up` from the live weights the program read from the stack's SSM weights parameter (config
// `traffic.weights` only seeds it), never ignoreChanges'd. The parameter is declared here with
// ignoreChanges on its value: the scripts write it after every weight they reach.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config.js";
import { fenceAction, fenceConditions, FENCE_PRIORITY } from "./fence.js";
import { COLORS, forwardAction, stickinessSeconds, type Color } from "./weights.js";
import { tags } from "./tags.js";
import { weightsParameter, type WeightsDecision } from "./liveWeights.js";

export const TEST_RULE_PRIORITY: Record<Color, number> = { blue: 10, green: 11 };

export interface LoadBalancerArgs {
  loadBalancer: StackConfig["loadBalancer"];
  traffic: StackConfig["traffic"];
  publicSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  albSecurityGroupId: pulumi.Input<string>;
  targetGroupArns: Record<Color, pulumi.Input<string>>;
  /** The weights read at preview time (readLiveWeights): what the production forward carries. */
  live: WeightsDecision;
}

export class LoadBalancer extends pulumi.ComponentResource {
  readonly alb: aws.lb.LoadBalancer;
  /** Listeners whose default action forwards to both colors. */
  readonly productionListeners: aws.lb.Listener[];
  readonly redirectListener: aws.lb.Listener | null;
  readonly testRules: Record<Color, aws.lb.ListenerRule>;
  readonly fenceRules: aws.lb.ListenerRule[];
  /** `/bluegreen/<project>/<stack>/weights`: the live weights, owned by the scripts. */
  readonly weightsParameter: aws.ssm.Parameter;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bluegreen:loadbalancer:LoadBalancer", name, {}, opts);
    const parent = { parent: this };
    const { loadBalancer: config, traffic } = args;

    this.alb = new aws.lb.LoadBalancer(
      `${name}-alb`,
      {
        loadBalancerType: "application",
        internal: false,
        securityGroups: [args.albSecurityGroupId],
        subnets: args.publicSubnetIds,
        dropInvalidHeaderFields: true,
        desyncMitigationMode: config.desyncMitigationMode,
        enableDeletionProtection: config.deletionProtection,
        idleTimeout: config.idleTimeoutSeconds,
        accessLogs: config.accessLogs ? { enabled: true, bucket: config.accessLogs.bucket, prefix: config.accessLogs.prefix } : undefined,
        tags: tags(`${name}-alb`),
      },
      parent,
    );

    this.weightsParameter = weightsParameter(`${name}-weights`, pulumi.getProject(), pulumi.getStack(), { initial: args.live.weights }, parent);
    const defaultAction = forwardAction(args.live.weights, args.targetGroupArns, stickinessSeconds(traffic.stickiness));

    const { production, redirect } = this.listeners(name, traffic, defaultAction);
    this.redirectListener = redirect;
    this.productionListeners = [production];

    this.fenceRules = this.productionListeners.map(
      (listener, index) =>
        new aws.lb.ListenerRule(
          `${name}-write-fence${index === 0 ? "" : `-${index}`}`,
          {
            listenerArn: listener.arn,
            priority: FENCE_PRIORITY,
            actions: [fenceAction()],
            conditions: fenceConditions("inert"),
            tags: tags(`${name}-write-fence`),
          },
          {
            parent: this,
            // The scripts arm/disarm the fence by replacing this rule's conditions (ModifyRule).
            // Pulumi must not put them back mid-switch, so conditions are the scripts' to own.
            // Safe: this rule has no forward action and no weights (the ignoreChanges weight bugs
            // of the weight ownership rules (infra/liveWeights.ts) do not apply). Action and priority stay Pulumi's.
            ignoreChanges: ["conditions"],
          },
        ),
    );

    const testRules = {} as Record<Color, aws.lb.ListenerRule>;
    for (const color of COLORS) {
      testRules[color] = new aws.lb.ListenerRule(
        `${name}-test-${color}`,
        {
          listenerArn: production.arn,
          priority: TEST_RULE_PRIORITY[color],
          actions: [{ type: "forward", targetGroupArn: args.targetGroupArns[color] }],
          conditions: [{ httpHeader: { httpHeaderName: traffic.testHeader, values: [color] } }],
          tags: tags(`${name}-test-${color}`, { "bluegreen:color": color }),
        },
        parent,
      );
    }
    this.testRules = testRules;

    this.registerOutputs({
      albArn: this.alb.arn,
      listenerArns: this.productionListeners.map((listener) => listener.arn),
      fenceRuleArns: this.fenceRules.map((rule) => rule.arn),
      weightsParameterName: this.weightsParameter.name,
    });
  }

  /** The production listener (HTTPS with an HTTP redirect, or plain HTTP) forwarding to the live weights. */
  private listeners(
    name: string,
    traffic: LoadBalancerArgs["traffic"],
    defaultAction: aws.types.input.lb.ListenerDefaultAction,
  ): { production: aws.lb.Listener; redirect: aws.lb.Listener | null } {
    const parent = { parent: this };
    if (traffic.https) {
      const production = new aws.lb.Listener(
        `${name}-https`,
        {
          loadBalancerArn: this.alb.arn,
          port: 443,
          protocol: "HTTPS",
          certificateArn: traffic.https.certificateArn,
          sslPolicy: traffic.https.sslPolicy,
          defaultActions: [defaultAction],
          tags: tags(`${name}-https`),
        },
        parent,
      );
      const redirect = new aws.lb.Listener(
        `${name}-http-redirect`,
        {
          loadBalancerArn: this.alb.arn,
          port: 80,
          protocol: "HTTP",
          defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
          tags: tags(`${name}-http-redirect`),
        },
        parent,
      );
      return { production, redirect };
    }
    const production = new aws.lb.Listener(
      `${name}-http`,
      { loadBalancerArn: this.alb.arn, port: 80, protocol: "HTTP", defaultActions: [defaultAction], tags: tags(`${name}-http`) },
      parent,
    );
    return { production, redirect: null };
  }
}
