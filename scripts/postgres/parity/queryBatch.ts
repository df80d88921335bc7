// Queries issued together travel together: every query asked for in the same turn of the event
// loop is sent as one multi-statement simple query, so a catalog of twenty queries costs one round
// trip instead of twenty. On a loaded server each round trip waits for the backend to be scheduled;
// parity's fixed cost before hashing was mostly these waits.

import type pg from "pg";

/** What catalog readers need: a SnapshotPool or a QueryBatch. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

interface Pending {
  text: string;
  resolve: (result: pg.QueryResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Parameters of a batched query are inlined, and only whole numbers (OIDs) or arrays of them are
 * taken: they cannot carry SQL. Anything else is a programming error.
 */
function literal(value: unknown): string {
  const whole = (v: unknown): string => {
    const text = String(v);
    if ((typeof v !== "string" && typeof v !== "number") || !/^-?\d+$/.test(text)) {
      throw new TypeError(`QueryBatch: only whole numbers and arrays of them are inlined, got ${typeof v}`);
    }
    return text;
  };
  return Array.isArray(value) ? `'{${value.map(whole).join(",")}}'` : whole(value);
}

export function inlineParams(sql: string, params: unknown[]): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= params.length) throw new RangeError(`QueryBatch: $${n} has no parameter`);
    return literal(params[index]);
  });
}

export class QueryBatch implements Queryable {
  private pending: Pending[] = [];

  constructor(private readonly client: pg.Client) {}

  query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    const text = inlineParams(sql, params);
    return new Promise<pg.QueryResult<R>>((resolve, reject) => {
      this.pending.push({ text, resolve: resolve as (result: pg.QueryResult) => void, reject });
      if (this.pending.length === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      // Each statement on lines of its own: a trailing comment cannot swallow the separator.
      const result = (await this.client.query(batch.map((p) => p.text).join("\n;\n"))) as pg.QueryResult | pg.QueryResult[];
      const results = Array.isArray(result) ? result : [result];
      if (results.length !== batch.length) throw new Error(`QueryBatch: ${batch.length} statements sent, ${results.length} results received`);
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
