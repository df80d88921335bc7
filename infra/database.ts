// RDS PostgreSQL: one instance for both colors (shared) or one per color (paired). Private,
// encrypted, master password generated and kept by RDS in Secrets Manager (no password in the
// program, the state's outputs or user data), with a parameter group that allows logical
// replication (paired sync) and forces TLS.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { StackConfig } from "./config.js";
import { tags } from "./tags.js";

/** Parameters every bluegreen database runs with. Pure data, asserted by the tests. */
export function databaseParameters(): { name: string; value: string; applyMethod: "immediate" | "pending-reboot" }[] {
  return [
    // Static parameter: takes effect at the next reboot (RDS applies it at creation time already).
    { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
  ];
}

/** "16.4" → "postgres16" (the parameter group family). */
export function parameterGroupFamily(engineVersion: string): string {
  return `postgres${engineVersion.split(".")[0]}`;
}

export interface DatabaseArgs {
  database: StackConfig["database"];
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  databaseSecurityGroupId: pulumi.Input<string>;
  /** The instances to create: ["shared"] or ["blue"] / ["blue", "green"]. */
  instances: readonly ("shared" | "blue" | "green")[];
}

export interface DatabaseInstance {
  instance: aws.rds.Instance;
  /** host:port */
  endpoint: pulumi.Output<string>;
  /** Secrets Manager secret RDS keeps the master credentials in. */
  secretArn: pulumi.Output<string>;
  /** The DB instance identifier (for snapshots and DescribeDBInstances). */
  instanceId: pulumi.Output<string>;
}

export class Database extends pulumi.ComponentResource {
  readonly instances: Partial<Record<"shared" | "blue" | "green", DatabaseInstance>>;

  constructor(name: string, args: DatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("bluegreen:database:Database", name, {}, opts);
    const parent = { parent: this };
    const config = args.database;

    const subnetGroup = new aws.rds.SubnetGroup(`${name}-subnets`, { subnetIds: args.privateSubnetIds, tags: tags(`${name}-subnets`) }, parent);
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      { family: parameterGroupFamily(config.engineVersion), parameters: databaseParameters(), tags: tags(`${name}-params`) },
      parent,
    );

    this.instances = {};
    for (const slot of args.instances) {
      const instance = new aws.rds.Instance(
        `${name}-${slot}`,
        {
          engine: "postgres",
          engineVersion: config.engineVersion,
          instanceClass: config.instanceClass,
          allocatedStorage: config.allocatedStorageGb,
          maxAllocatedStorage: config.maxAllocatedStorageGb,
          storageType: "gp3",
          storageEncrypted: true,
          dbName: config.databaseName,
          username: config.username,
          manageMasterUserPassword: true,
          dbSubnetGroupName: subnetGroup.name,
          parameterGroupName: parameterGroup.name,
          vpcSecurityGroupIds: [args.databaseSecurityGroupId],
          publiclyAccessible: false,
          multiAz: config.multiAz,
          backupRetentionPeriod: config.backupRetentionDays,
          deletionProtection: config.deletionProtection,
          skipFinalSnapshot: false,
          finalSnapshotIdentifier: `${pulumi.getProject()}-${pulumi.getStack()}-${slot}-final`.toLowerCase().replace(/[^a-z0-9-]/g, "-"),
          copyTagsToSnapshot: true,
          autoMinorVersionUpgrade: true,
          applyImmediately: false,
          tags: tags(`${name}-${slot}`, slot === "shared" ? {} : { "bluegreen:color": slot }),
        },
        parent,
      );
      this.instances[slot] = {
        instance,
        endpoint: instance.endpoint,
        secretArn: instance.masterUserSecrets.apply((secrets) => {
          const arn = secrets?.[0]?.secretArn;
          if (!arn) throw new Error(`${name}-${slot}: RDS returned no master user secret although manageMasterUserPassword is set`);
          return arn;
        }),
        instanceId: instance.identifier,
      };
    }

    this.registerOutputs({
      endpoints: Object.fromEntries(Object.entries(this.instances).map(([slot, db]) => [slot, db.endpoint])),
    });
  }
}
