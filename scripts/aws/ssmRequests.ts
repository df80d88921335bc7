// OperatorRequestChannel over SSM Parameter Store: `/bluegreen/<project>/<stack>/request`, beside
// the lock and the journal (the same IAM prefix). `npm run pause` / `npm run abort` write it from
// any terminal; the running cutover reads it once per poll of a bake and removes a pause it obeyed.
// A Standard-tier String (a request is a few hundred bytes).

import type { SSMClient } from "@aws-sdk/client-ssm";
import type { OperatorRequest } from "../core/operatorRequest.js";
import type { OperatorRequestChannel } from "../core/ports.js";
import { SsmParameters, stackParameterName, type SsmParameterOptions, type StackIdentity } from "./ssmParameters.js";

export class SsmOperatorRequests implements OperatorRequestChannel {
  readonly name: string;
  private readonly parameters: SsmParameters;

  constructor(client: SSMClient, identity: StackIdentity, options: SsmParameterOptions = {}) {
    this.name = stackParameterName(identity, "request");
    this.parameters = new SsmParameters(client, options);
  }

  /** The stored request (text that is not JSON comes back as is: the engine ignores what is not a request). */
  async read(): Promise<unknown | null> {
    const value = await this.parameters.get(this.name);
    if (value === null) return null;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return value;
    }
  }

  async write(request: OperatorRequest): Promise<void> {
    await this.parameters.put(this.name, JSON.stringify(request), {
      overwrite: true,
      tier: "Standard",
      description: "bluegreen: a pause or abort request to the running cutover (npm run pause / abort)",
    });
  }

  async clear(): Promise<void> {
    await this.parameters.delete(this.name);
  }
}
