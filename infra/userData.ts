// Boot script for a color's instances. Pure: tested in test/unit/infraUserData.test.ts.
//
// Either the operator's own `userData` is used verbatim, or a script is generated that runs
// `containerImage` with Docker, publishing the app port and passing the color's environment
// variables. Secrets never go here: launch-template user data is readable by anyone with
// ec2:DescribeLaunchTemplateVersions (the config schema refuses secret-looking variables).

export interface ContainerSpec {
  color: "blue" | "green";
  version?: string | undefined;
  containerImage: string;
  port: number;
  region: string;
  environment: Record<string, string>;
}

/** Single-quote a string for POSIX sh: the result always evaluates to exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export interface EcrImage {
  registry: string;
  accountId: string;
  region: string;
  repository: string;
  /** arn:aws:ecr:<region>:<account>:repository/<name> (partition from the region). */
  repositoryArn: string;
}

/** `123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.2` → its registry and repository; null for other registries. */
export function parseEcrImage(image: string): EcrImage | null {
  const match = /^((\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)\/([a-z0-9._/-]+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/.exec(image);
  if (!match) return null;
  const [, registry, accountId, region, repository] = match as unknown as [string, string, string, string, string];
  const partition = region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws";
  return { registry, accountId, region, repository, repositoryArn: `arn:${partition}:ecr:${region}:${accountId}:repository/${repository}` };
}

/** A bash script for Amazon Linux 2023 that installs Docker and runs the container. */
export function containerUserData(spec: ContainerSpec): string {
  const environment: Record<string, string> = {
    ...spec.environment,
    PORT: String(spec.port),
    BLUEGREEN_COLOR: spec.color,
    ...(spec.version === undefined ? {} : { APP_VERSION: spec.version }),
  };
  const envFlags = Object.keys(environment)
    .sort()
    .map((name) => `  -e ${shellQuote(`${name}=${environment[name]}`)} \\`);
  const ecr = parseEcrImage(spec.containerImage);
  const login = ecr
    ? [
        `# The instance profile may read this one repository (colorEnvironment.ts); credentials come from IMDSv2.`,
        `aws ecr get-login-password --region ${shellQuote(ecr.region)} | docker login --username AWS --password-stdin ${shellQuote(ecr.registry)}`,
      ]
    : [];
  return [
    "#!/bin/bash",
    `# bluegreen: ${spec.color} color. Generated from stack config; holds no secrets.`,
    "set -euo pipefail",
    "dnf install -y docker",
    "systemctl enable --now docker",
    ...login,
    `docker pull ${shellQuote(spec.containerImage)}`,
    "docker rm -f app 2>/dev/null || true",
    "docker run -d --name app --restart=always \\",
    `  -p ${spec.port}:${spec.port} \\`,
    ...envFlags,
    `  ${shellQuote(spec.containerImage)}`,
    "",
  ].join("\n");
}

/** The script a color boots with: the configured userData, or the generated container script. */
export function renderUserData(
  color: { userData?: string | undefined; containerImage?: string | undefined; version?: string | undefined; environment: Record<string, string> },
  spec: { color: "blue" | "green"; port: number; region: string },
): string {
  if (color.userData !== undefined) return color.userData;
  if (color.containerImage === undefined) throw new Error(`app.${spec.color}: set userData or containerImage`);
  return containerUserData({ ...spec, containerImage: color.containerImage, version: color.version, environment: color.environment });
}
