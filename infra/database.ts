// RDS PostgreSQL: one instance for both colors (shared) or one per color (paired). Private,
// encrypted, master password generated and kept by RDS in Secrets Manager (no password in the
// program, the state's outputs or user data), with a parameter group that allows logical
// replication (paired sync) and forces TLS.
//
// Paired mode also gives each color's database a replication role of its own
// (`bluegreen_replication`): its password is a RandomPassword kept in a Secrets Manager secret the
// program declares (username, password, host, port, dbname: the secret alone reaches the
// database). `npm run sync` creates the role from it on the database (with the master secret, once)
// and subscriptions connect as that role, so RDS rotating the master secret leaves replication
// running (scripts/postgres/sync/replicationRole.ts).
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import type { StackConfig } from "./config.js";
import { tags } from "./tags.js";

/** The login subscriptions use on the publishing database (scripts/postgres/sync/replicationRole.ts creates it). */
export const REPLICATION_USERNAME = "bluegreen_replication";

/** Stack names that look like production: `prod`, `production`, `live`, as a word (`prod-eu`, `eu-live`). */
export function isProductionLooking(stack: string): boolean {
  return /(^|[^a-z0-9])(prod|production|live)([^a-z0-9]|$)/i.test(stack);
}

/** database.protect / retainOnDelete, defaulted by the stack's name. */
export function databaseLifecycle(
  config: Pick<StackConfig["database"], "protect" | "retainOnDelete">,
  stack: string,
): { protect: boolean; retainOnDelete: boolean } {
  const production = isProductionLooking(stack);
  return { protect: config.protect ?? production, retainOnDelete: config.retainOnDelete ?? production };
}

/** The final snapshot's name: stable prefix + a RandomId's hex, so no two deletions collide. */
export function finalSnapshotPrefix(project: string, stack: string, slot: string): string {
  return `${project}-${stack}-${slot}-final`
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, "-")
    .replace(/-+/g, "-");
}

/** Parameters every bluegreen database runs with. Pure data, asserted by the tests. */
export function databaseParameters(): { name: string; value: string; applyMethod: "immediate" | "pending-reboot" }[] {
  return [
    // Static parameter: takes effect at the next reboot (RDS applies it at creation time already).
    { name: "rds.logical_replication", value: "1", applyMethod: "pending-reboot" },
    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
  ];
}

/** "16" or "16.4" → "postgres16" (the parameter group family). */
export function parameterGroupFamily(engineVersion: string): string {
  return `postgres${engineVersion.split(".")[0]}`;
}

export interface DatabaseArgs {
  database: StackConfig["database"];
  privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
  databaseSecurityGroupId: pulumi.Input<string>;
  /** The instances to create: ["shared"] or ["blue"] / ["blue", "green"]. */
  instances: readonly ("shared" | "blue" | "green")[];
  /** Pulumi stack name: production-looking stacks protect their databases by default. */
  stack: string;
}

export interface DatabaseInstance {
  instance: aws.rds.Instance;
  /** host:port */
  endpoint: pulumi.Output<string>;
  /** Secrets Manager secret RDS keeps the master credentials in. */
  secretArn: pulumi.Output<string>;
  /** The DB instance identifier (for snapshots and DescribeDBInstances). */
  instanceId: pulumi.Output<string>;
  /** paired mode: the secret of this database's replication role (username, password, host, port, dbname). */
  replicationSecretArn: pulumi.Output<string> | null;
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

    const lifecycle = databaseLifecycle(config, args.stack);
    this.instances = {};
    for (const slot of args.instances) {
      // A new suffix whenever the instance is replaced (its replacement-forcing inputs are the
      // keepers) or the stack is destroyed and created again: the final snapshot of one deletion
      // never collides with the one before.
      const snapshotSuffix = new random.RandomId(
        `${name}-${slot}-final-snapshot`,
        {
          byteLength: 4,
          keepers: { slot, engine: "postgres", dbName: config.databaseName, username: config.username, storageEncrypted: "true" },
        },
        parent,
      );
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
          finalSnapshotIdentifier: pulumi.interpolate`${finalSnapshotPrefix(pulumi.getProject(), args.stack, slot)}-${snapshotSuffix.hex}`,
          copyTagsToSnapshot: true,
          autoMinorVersionUpgrade: true,
          applyImmediately: false,
          tags: tags(`${name}-${slot}`, slot === "shared" ? {} : { "bluegreen:color": slot }),
        },
        // protect: `pulumi destroy` and replacements refuse to delete it; retainOnDelete: a
        // deletion Pulumi does carry out leaves the instance in AWS (the data outlives the stack).
        { parent: this, protect: lifecycle.protect, retainOnDelete: lifecycle.retainOnDelete },
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
        replicationSecretArn: slot === "shared" ? null : this.replicationSecret(name, slot, instance, config.databaseName),
      };
    }

    this.registerOutputs({
      replicationSecretArns: Object.fromEntries(Object.entries(this.instances).map(([slot, db]) => [slot, db.replicationSecretArn])),
      endpoints: Object.fromEntries(Object.entries(this.instances).map(([slot, db]) => [slot, db.endpoint])),
    });
  }
  /** The replication role's secret: a RandomPassword, and everything needed to connect with it alone. */
  private replicationSecret(name: string, slot: "blue" | "green", instance: aws.rds.Instance, databaseName: string): pulumi.Output<string> {
    const parent = { parent: this };
    // Letters and digits only: the password travels in libpq conninfo strings and URLs.
    const password = new random.RandomPassword(`${name}-${slot}-replication-password`, { length: 40, special: false }, parent);
    const secret = new aws.secretsmanager.Secret(
      `${name}-${slot}-replication`,
      {
        description: `bluegreen: login of ${REPLICATION_USERNAME} on the ${slot} database (logical replication; npm run sync creates the role from it)`,
        tags: tags(`${name}-${slot}-replication`, { "bluegreen:color": slot }),
      },
      parent,
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-${slot}-replication`,
      {
        secretId: secret.id,
        secretString: pulumi.jsonStringify({
          engine: "postgres",
          username: REPLICATION_USERNAME,
          password: password.result,
          host: instance.address,
          port: instance.port,
          dbname: databaseName,
        }),
      },
      parent,
    );
    return secret.arn;
  }
}
