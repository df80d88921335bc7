// Tags every resource carries, so the console and cost reports show the stack and the color.
import * as pulumi from "@pulumi/pulumi";

export function tags(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Name: name,
    "bluegreen:project": pulumi.getProject(),
    "bluegreen:stack": pulumi.getStack(),
    ...extra,
  };
}
