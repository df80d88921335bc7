// Example stack config maps (Pulumi.prod.yaml and variants), as plain data: the config tests
// (unit) and the Pulumi-mock program runs (component) share them.

import { parse } from "yaml";
import { filledProdConfig } from "./prodConfig.js";

/** The example config map of Pulumi.prod.yaml, its placeholders filled in (values as YAML parsed them). */
export function prodConfigMap(): Record<string, any> {
  return parse(filledProdConfig()).config;
}

/** The network of the "existing" network mode in the paired scenario. */
export const EXISTING_NETWORK = {
  vpcId: "vpc-0abc12345",
  publicSubnetIds: ["subnet-0aaa1111", "subnet-0bbb2222"],
  privateSubnetIds: ["subnet-0ccc3333", "subnet-0ddd4444"],
};

/** Pulumi.prod.yaml made paired: an existing network, two databases, all-at-once, sticky, a test header. */
export function pairedConfig(): Record<string, any> {
  const config = prodConfigMap();
  config["bluegreen:network"] = { mode: "existing", ...EXISTING_NETWORK };
  config["bluegreen:loadBalancer"] = { deletionProtection: false, desyncMitigationMode: "strictest" };
  config["bluegreen:database"].mode = "paired";
  config["bluegreen:rollout"].strategy = { type: "all-at-once" };
  config["bluegreen:traffic"] = { weights: { blue: 0, green: 100 }, stickiness: { durationSeconds: 300 }, testHeader: "x-color" };
  return config;
}

/** The paired config on a created network with green disabled and blue booted from `blueUserData` instead of an image. */
export function greenDisabledConfig(blueUserData: string): Record<string, any> {
  const config = pairedConfig();
  config["bluegreen:network"] = { mode: "create", cidr: "10.50.0.0/20", availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], natGateways: "single" };
  config["bluegreen:app"].green = { enabled: false };
  const { containerImage: _image, ...blue } = config["bluegreen:app"].blue;
  config["bluegreen:app"].blue = { ...blue, userData: blueUserData };
  config["bluegreen:traffic"] = { weights: { blue: 100, green: 0 } };
  return config;
}
