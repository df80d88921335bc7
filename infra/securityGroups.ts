// Security groups as a chain: internet → ALB (80/443) → app (app port) → database (5432).
// Groups are declared without inline rules; every rule is its own aws.vpc.SecurityGroup*Rule
// resource, so rules can change without replacing a group and nothing else is open.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { tags } from "./tags.js";

export const POSTGRES_PORT = 5432;

export interface SecurityGroupsArgs {
  vpcId: pulumi.Input<string>;
  appPort: number;
  /** 443 is opened only when the ALB has an HTTPS listener. */
  https: boolean;
  /**
   * Paired databases replicate to each other (logical replication connects subscriber → publisher
   * on 5432), so the database group also admits itself.
   */
  databasesReplicate: boolean;
}

const tcp = { ipProtocol: "tcp" } as const;

export class SecurityGroups extends pulumi.ComponentResource {
  readonly albSecurityGroupId: pulumi.Output<string>;
  readonly appSecurityGroupId: pulumi.Output<string>;
  readonly databaseSecurityGroupId: pulumi.Output<string>;

  constructor(name: string, args: SecurityGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bluegreen:security:SecurityGroups", name, {}, opts);
    const parent = { parent: this };
    const group = (suffix: string, description: string) =>
      new aws.ec2.SecurityGroup(`${name}-${suffix}`, { vpcId: args.vpcId, description, tags: tags(`${name}-${suffix}`) }, parent);

    const alb = group("alb", "bluegreen ALB: HTTP(S) from the internet, out to the app port only");
    const app = group("app", "bluegreen app instances: app port from the ALB only");
    const db = group("db", "bluegreen PostgreSQL: 5432 from the app instances only");

    this.albRules(name, args, alb, app);
    this.appRules(name, args, app, alb, db);
    this.databaseRules(name, args, db, app);

    this.albSecurityGroupId = alb.id;
    this.appSecurityGroupId = app.id;
    this.databaseSecurityGroupId = db.id;
    this.registerOutputs({ albSecurityGroupId: alb.id, appSecurityGroupId: app.id, databaseSecurityGroupId: db.id });
  }

  /** The ALB's group: HTTP(S) in from the internet (IPv4 and IPv6), out to the app port only. */
  private albRules(name: string, args: SecurityGroupsArgs, alb: aws.ec2.SecurityGroup, app: aws.ec2.SecurityGroup): void {
    const parent = { parent: this };
    const internetPorts = args.https ? [80, 443] : [80];
    for (const port of internetPorts) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-in-${port}-ipv4`,
        {
          ...tcp,
          securityGroupId: alb.id,
          fromPort: port,
          toPort: port,
          cidrIpv4: "0.0.0.0/0",
          description: `HTTP${port === 443 ? "S" : ""} from the internet`,
        },
        parent,
      );
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-alb-in-${port}-ipv6`,
        {
          ...tcp,
          securityGroupId: alb.id,
          fromPort: port,
          toPort: port,
          cidrIpv6: "::/0",
          description: `HTTP${port === 443 ? "S" : ""} from the internet (IPv6)`,
        },
        parent,
      );
    }
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-alb-out-app`,
      {
        ...tcp,
        securityGroupId: alb.id,
        fromPort: args.appPort,
        toPort: args.appPort,
        referencedSecurityGroupId: app.id,
        description: "requests and health checks to the app",
      },
      parent,
    );
  }

  /** The app's group: the app port from the ALB; out to PostgreSQL and HTTPS. */
  private appRules(name: string, args: SecurityGroupsArgs, app: aws.ec2.SecurityGroup, alb: aws.ec2.SecurityGroup, db: aws.ec2.SecurityGroup): void {
    const parent = { parent: this };
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-app-in-alb`,
      { ...tcp, securityGroupId: app.id, fromPort: args.appPort, toPort: args.appPort, referencedSecurityGroupId: alb.id, description: "from the ALB" },
      parent,
    );
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-app-out-db`,
      { ...tcp, securityGroupId: app.id, fromPort: POSTGRES_PORT, toPort: POSTGRES_PORT, referencedSecurityGroupId: db.id, description: "to PostgreSQL" },
      parent,
    );
    // HTTPS out (through NAT): SSM agent, ECR/registry pulls, OS packages. No inbound counterpart.
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-app-out-https`,
      { ...tcp, securityGroupId: app.id, fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0", description: "HTTPS out: SSM, image registry, packages" },
      parent,
    );
  }

  /** The databases' group: 5432 from the app; paired, also between the databases (logical replication). */
  private databaseRules(name: string, args: SecurityGroupsArgs, db: aws.ec2.SecurityGroup, app: aws.ec2.SecurityGroup): void {
    const parent = { parent: this };
    new aws.vpc.SecurityGroupIngressRule(
      `${name}-db-in-app`,
      {
        ...tcp,
        securityGroupId: db.id,
        fromPort: POSTGRES_PORT,
        toPort: POSTGRES_PORT,
        referencedSecurityGroupId: app.id,
        description: "from the app instances",
      },
      parent,
    );
    if (args.databasesReplicate) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-db-in-db`,
        {
          ...tcp,
          securityGroupId: db.id,
          fromPort: POSTGRES_PORT,
          toPort: POSTGRES_PORT,
          referencedSecurityGroupId: db.id,
          description: "logical replication between the paired databases",
        },
        parent,
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${name}-db-out-db`,
        {
          ...tcp,
          securityGroupId: db.id,
          fromPort: POSTGRES_PORT,
          toPort: POSTGRES_PORT,
          referencedSecurityGroupId: db.id,
          description: "logical replication between the paired databases",
        },
        parent,
      );
    }
  }
}
