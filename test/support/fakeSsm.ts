// SSM Parameter Store behind aws-sdk-client-mock, with the limits the real service enforces:
//
// - a value holds at most 4,096 bytes in the Standard tier and 8,192 in the Advanced tier
//   (ValidationException past that, with SSM's own wording for Standard); "Intelligent-Tiering"
//   creates a Standard parameter while the value fits and an Advanced one once it does not; an
//   Advanced parameter never goes back to Standard (an explicit Standard write is refused);
// - no Tier: the account's default, Standard (an Advanced parameter stays Advanced);
// - names at most 1,011 characters and 15 levels; PutParameter without Overwrite on an existing
//   name is ParameterAlreadyExists; a missing name is ParameterNotFound;
// - every PutParameter adds a version (SSM keeps the last 100).
//
// `snapshots` keeps the whole store after each write of a watched name (the journal), so a test
// can start a fresh process from any saved journal.

import { DeleteParameterCommand, GetParameterCommand, PutParameterCommand, type SSMClient } from "@aws-sdk/client-ssm";
import type { mockClient } from "aws-sdk-client-mock";

type Mock = ReturnType<typeof mockClient>;

type Tier = "Standard" | "Advanced";
export interface StoredParameter {
  value: string;
  tier: Tier;
  version: number;
}

const LIMIT: Record<Tier, number> = { Standard: 4096, Advanced: 8192 };

const awsError = (name: string, message: string) => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

export class FakeSsm {
  readonly parameters = new Map<string, StoredParameter>();
  readonly calls: { command: "Get" | "Put" | "Delete"; name: string; bytes?: number }[] = [];
  /** The store after each write of `watch` (oldest first). */
  readonly snapshots: Map<string, StoredParameter>[] = [];
  /** Writes refused for their size (ValidationException). */
  refused = 0;

  constructor(private readonly watch: string | null = null) {}

  install(mock: Mock): void {
    mock.on(GetParameterCommand).callsFake((input: { Name: string }) => this.get(input.Name));
    mock.on(PutParameterCommand).callsFake((input: { Name: string; Value: string; Overwrite?: boolean; Tier?: string }) => this.put(input));
    mock.on(DeleteParameterCommand).callsFake((input: { Name: string }) => this.delete(input.Name));
  }

  get(name: string): { Parameter: { Name: string; Value: string; Version: number; Tier: Tier } } {
    this.calls.push({ command: "Get", name });
    const stored = this.parameters.get(name);
    if (!stored) throw awsError("ParameterNotFound", `Parameter ${name} not found.`);
    return { Parameter: { Name: name, Value: stored.value, Version: stored.version, Tier: stored.tier } };
  }

  put(input: { Name: string; Value: string; Overwrite?: boolean; Tier?: string }): { Version: number; Tier: Tier } {
    const bytes = Buffer.byteLength(input.Value);
    this.calls.push({ command: "Put", name: input.Name, bytes });
    if (input.Name.length > 1011 || input.Name.split("/").length - 1 > 15)
      throw awsError("ValidationException", `parameter name ${input.Name} is too long or too deep`);
    const existing = this.parameters.get(input.Name);
    if (existing && !input.Overwrite)
      throw awsError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
    const tier = this.tierFor(input.Tier, bytes, existing?.tier ?? null);
    if (bytes > LIMIT[tier]) {
      this.refused += 1;
      throw tier === "Standard"
        ? awsError(
            "ValidationException",
            "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.",
          )
        : awsError(
            "ValidationException",
            "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length less than or equal to 8192",
          );
    }
    const version = (existing?.version ?? 0) + 1;
    this.parameters.set(input.Name, { value: input.Value, tier, version });
    if (input.Name === this.watch) this.snapshots.push(this.copy());
    return { Version: version, Tier: tier };
  }

  delete(name: string): Record<string, never> {
    this.calls.push({ command: "Delete", name });
    if (!this.parameters.delete(name)) throw awsError("ParameterNotFound", `Parameter ${name} not found.`);
    return {};
  }

  copy(): Map<string, StoredParameter> {
    return new Map([...this.parameters].map(([name, p]) => [name, { ...p }]));
  }

  /** Replace the store's content (start from a snapshot). */
  restore(snapshot: Map<string, StoredParameter>): void {
    this.parameters.clear();
    for (const [name, p] of snapshot) this.parameters.set(name, { ...p });
  }

  private tierFor(requested: string | undefined, bytes: number, existing: Tier | null): Tier {
    if (requested === "Advanced") return "Advanced";
    if (requested === "Standard") {
      if (existing === "Advanced") throw awsError("ValidationException", "An Advanced parameter cannot be downgraded to the Standard tier.");
      return "Standard";
    }
    if (requested === "Intelligent-Tiering") return existing === "Advanced" || bytes > LIMIT.Standard ? "Advanced" : "Standard";
    return existing ?? "Standard";
  }
}

/** A fake SSM behind a real SSMClient: `mockClient(SSMClient)` once per test file, then this per test. */
export function fakeSsmClient(mock: Mock, makeClient: () => SSMClient, watch: string | null = null): { ssm: FakeSsm; client: SSMClient } {
  const ssm = new FakeSsm(watch);
  ssm.install(mock);
  return { ssm, client: makeClient() };
}
