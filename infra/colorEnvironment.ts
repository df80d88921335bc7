// One color (blue or green): its target group, and when the color is enabled its compute:
// launch template, Auto Scaling group registered to the target group, and an instance profile.
// A disabled color keeps its target group (the production forward lists both groups, weight 0).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ColorConfig, StackConfig } from "./config.js";
import { parseEcrImage, renderUserData } from "./userData.js";
import type { Color } from "./weights.js";
import { tags } from "./tags.js";

export interface ColorEnvironmentArgs {
  color: Color;
  config: ColorConfig;
  app: StackConfig["app"];
  region: string;
  vpcId: pulumi.Input<string>;
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  appSecurityGroupId: pulumi.Input<string>;
}

type ColorTags = (resource: string) => Record<string, string>;

export class ColorEnvironment extends pulumi.ComponentResource {
  readonly color: Color;
  readonly targetGroup: aws.lb.TargetGroup;
  /** Null when the color is disabled. */
  readonly autoScalingGroup: aws.autoscaling.Group | null;
  readonly launchTemplate: aws.ec2.LaunchTemplate | null;

  constructor(name: string, args: ColorEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bluegreen:color:ColorEnvironment", name, {}, opts);
    const parent = { parent: this };
    const { color, config } = args;
    this.color = color;
    const colorTags: ColorTags = (resource) => tags(`${name}-${resource}`, { "bluegreen:color": color });

    this.targetGroup = targetGroup(name, args, colorTags, parent);
    if (!config.enabled) {
      this.autoScalingGroup = null;
      this.launchTemplate = null;
      this.registerOutputs({ targetGroupArn: this.targetGroup.arn, autoScalingGroupName: null });
      return;
    }
    const profile = instanceProfile(name, config, colorTags, parent);
    this.launchTemplate = launchTemplate(name, args, profile, colorTags, parent);
    this.autoScalingGroup = autoScalingGroup(name, args, this.launchTemplate, this.targetGroup, colorTags, parent);
    this.registerOutputs({ targetGroupArn: this.targetGroup.arn, autoScalingGroupName: this.autoScalingGroup.name });
  }
}

/** The color's target group, health-checked as app.healthCheck says; kept when the color is disabled. */
function targetGroup(name: string, args: ColorEnvironmentArgs, colorTags: ColorTags, parent: pulumi.CustomResourceOptions): aws.lb.TargetGroup {
  const { app } = args;
  return new aws.lb.TargetGroup(
    `${name}-tg`,
    {
      vpcId: args.vpcId,
      port: app.port,
      protocol: "HTTP",
      targetType: "instance",
      // How long a draining target keeps finishing its requests; the scripts wait it out before
      // scaling a color down.
      deregistrationDelay: app.deregistrationDelaySeconds,
      healthCheck: {
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: app.healthCheck.path,
        matcher: app.healthCheck.matcher,
        interval: app.healthCheck.intervalSeconds,
        timeout: app.healthCheck.timeoutSeconds,
        healthyThreshold: app.healthCheck.healthyThreshold,
        unhealthyThreshold: app.healthCheck.unhealthyThreshold,
      },
      tags: colorTags("tg"),
    },
    parent,
  );
}

/**
 * The instances' role and profile: SSM Session Manager (no SSH, no open port) and, when the image
 * lives in ECR, read access to that one repository. Nothing else.
 */
function instanceProfile(name: string, config: ColorConfig, colorTags: ColorTags, parent: pulumi.CustomResourceOptions): aws.iam.InstanceProfile {
  const role = new aws.iam.Role(
    `${name}-role`,
    {
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags: colorTags("role"),
    },
    parent,
  );
  new aws.iam.RolePolicyAttachment(`${name}-ssm`, { role: role.name, policyArn: aws.iam.ManagedPolicy.AmazonSSMManagedInstanceCore }, parent);
  const ecr = config.userData === undefined && config.containerImage !== undefined ? parseEcrImage(config.containerImage) : null;
  if (ecr) {
    new aws.iam.RolePolicy(
      `${name}-ecr-pull`,
      {
        role: role.name,
        policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
            { Effect: "Allow", Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"], Resource: ecr.repositoryArn },
          ],
        }),
      },
      parent,
    );
  }
  return new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name, tags: colorTags("profile") }, parent);
}

/** What an instance of the color boots: image, type, profile, encrypted root volume, IMDSv2 only, the boot script. */
function launchTemplate(
  name: string,
  args: ColorEnvironmentArgs,
  profile: aws.iam.InstanceProfile,
  colorTags: ColorTags,
  parent: pulumi.CustomResourceOptions,
): aws.ec2.LaunchTemplate {
  const { color, config, app } = args;
  const userData = renderUserData(config, { color, port: app.port, region: args.region });
  return new aws.ec2.LaunchTemplate(
    `${name}-lt`,
    {
      imageId: config.amiId,
      instanceType: config.instanceType,
      iamInstanceProfile: { arn: profile.arn },
      vpcSecurityGroupIds: [args.appSecurityGroupId],
      // IMDSv2 only, and a hop limit of 1: a container behind a bridge network cannot reach the
      // instance credentials.
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" },
      blockDeviceMappings: [
        {
          deviceName: config.rootVolume.deviceName,
          ebs: { volumeType: "gp3", volumeSize: config.rootVolume.sizeGb, encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      monitoring: { enabled: true },
      userData: Buffer.from(userData, "utf8").toString("base64"),
      updateDefaultVersion: true,
      tagSpecifications: [
        { resourceType: "instance", tags: colorTags("instance") },
        { resourceType: "volume", tags: colorTags("volume") },
      ],
      tags: colorTags("lt"),
    },
    parent,
  );
}

/** The color's Auto Scaling group in the private subnets, registered to its target group. */
function autoScalingGroup(
  name: string,
  args: ColorEnvironmentArgs,
  template: aws.ec2.LaunchTemplate,
  group: aws.lb.TargetGroup,
  colorTags: ColorTags,
  parent: pulumi.CustomResourceOptions,
): aws.autoscaling.Group {
  const { config } = args;
  return new aws.autoscaling.Group(
    `${name}-asg`,
    {
      vpcZoneIdentifiers: args.privateSubnetIds,
      minSize: config.minSize,
      maxSize: config.maxSize,
      desiredCapacity: config.desiredCapacity,
      launchTemplate: { id: template.id, version: pulumi.interpolate`${template.latestVersion}` },
      targetGroupArns: [group.arn],
      // Replace instances the ALB finds unhealthy, not only those EC2 finds broken.
      healthCheckType: "ELB",
      healthCheckGracePeriod: 120,
      // A new launch template version (new image, new flags) rolls through the color's instances.
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 90 } },
      tags: Object.entries(colorTags("instance")).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    },
    // The program owns min and max; desired capacity, once created, belongs to the scripts
    // (rollout.capacity: match, blue scaled down and back), so a `pulumi up` never undoes them.
    { ...parent, ignoreChanges: ["desiredCapacity"] },
  );
}
