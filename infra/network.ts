// Network: either a new VPC (public + private subnets per AZ, internet gateway, NAT gateways,
// route tables) or an existing VPC passed through by id.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config.js";
import { allocateSubnets } from "./cidr.js";
import { tags } from "./tags.js";

export interface NetworkArgs {
  network: StackConfig["network"];
}

export class Network extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  /** For the ALB. */
  readonly publicSubnetIds: pulumi.Output<string[]>;
  /** For instances and databases; no route from the internet. */
  readonly privateSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bluegreen:network:Network", name, {}, opts);
    const config = args.network;

    if (config.mode === "existing") {
      this.vpcId = pulumi.output(config.vpcId);
      this.publicSubnetIds = pulumi.output(config.publicSubnetIds);
      this.privateSubnetIds = pulumi.output(config.privateSubnetIds);
    } else {
      const parent = { parent: this };
      const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        { cidrBlock: config.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: tags(`${name}-vpc`) },
        parent,
      );
      // The default security group of a new VPC allows all traffic between its members: strip it.
      new aws.ec2.DefaultSecurityGroup(`${name}-default-sg`, { vpcId: vpc.id, ingress: [], egress: [], tags: tags(`${name}-default-locked`) }, parent);
      const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: tags(`${name}-igw`) }, parent);

      const publicRoutes = new aws.ec2.RouteTable(`${name}-public-rt`, { vpcId: vpc.id, tags: tags(`${name}-public`) }, parent);
      new aws.ec2.Route(`${name}-public-default`, { routeTableId: publicRoutes.id, destinationCidrBlock: "0.0.0.0/0", gatewayId: igw.id }, parent);

      const plan = allocateSubnets(config.cidr, config.availabilityZones);
      const publicSubnets = plan.map((zone) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-public-${zone.availabilityZone}`,
          {
            vpcId: vpc.id,
            availabilityZone: zone.availabilityZone,
            cidrBlock: zone.publicCidr,
            // Only the ALB lives here; nothing needs a public address assigned at launch.
            mapPublicIpOnLaunch: false,
            tags: tags(`${name}-public-${zone.availabilityZone}`, { "bluegreen:tier": "public" }),
          },
          parent,
        );
        new aws.ec2.RouteTableAssociation(`${name}-public-${zone.availabilityZone}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, parent);
        return subnet;
      });

      const natZones = config.natGateways === "per-az" ? plan : plan.slice(0, 1);
      const natGateways = natZones.map((zone, index) => {
        const eip = new aws.ec2.Eip(
          `${name}-nat-${zone.availabilityZone}`,
          { domain: "vpc", tags: tags(`${name}-nat-${zone.availabilityZone}`) },
          { parent: this, dependsOn: [igw] },
        );
        return new aws.ec2.NatGateway(
          `${name}-nat-${zone.availabilityZone}`,
          { allocationId: eip.id, subnetId: publicSubnets[index]!.id, connectivityType: "public", tags: tags(`${name}-nat-${zone.availabilityZone}`) },
          { parent: this, dependsOn: [igw] },
        );
      });

      const privateSubnets = plan.map((zone, index) => {
        const subnet = new aws.ec2.Subnet(
          `${name}-private-${zone.availabilityZone}`,
          {
            vpcId: vpc.id,
            availabilityZone: zone.availabilityZone,
            cidrBlock: zone.privateCidr,
            mapPublicIpOnLaunch: false,
            tags: tags(`${name}-private-${zone.availabilityZone}`, { "bluegreen:tier": "private" }),
          },
          parent,
        );
        const nat = natGateways[config.natGateways === "per-az" ? index : 0]!;
        const routes = new aws.ec2.RouteTable(
          `${name}-private-${zone.availabilityZone}`,
          { vpcId: vpc.id, tags: tags(`${name}-private-${zone.availabilityZone}`) },
          parent,
        );
        new aws.ec2.Route(
          `${name}-private-${zone.availabilityZone}-default`,
          { routeTableId: routes.id, destinationCidrBlock: "0.0.0.0/0", natGatewayId: nat.id },
          parent,
        );
        new aws.ec2.RouteTableAssociation(`${name}-private-${zone.availabilityZone}`, { subnetId: subnet.id, routeTableId: routes.id }, parent);
        return subnet;
      });

      this.vpcId = vpc.id;
      this.publicSubnetIds = pulumi.all(publicSubnets.map((subnet) => subnet.id));
      this.privateSubnetIds = pulumi.all(privateSubnets.map((subnet) => subnet.id));
    }

    this.registerOutputs({ vpcId: this.vpcId, publicSubnetIds: this.publicSubnetIds, privateSubnetIds: this.privateSubnetIds });
  }
}
