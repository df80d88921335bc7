// Paired migrations, the pure part: which side gets the DDL first, and which publication and
// subscription statements bring the replication set in line with what a migration created or dropped.

import { describe, expect, it } from "vitest";
import { applyOrder, replicationCatchUp, type ReplicationState } from "../../scripts/postgres/migrate/replication.js";

const FORWARD = "bluegreen_blue_to_green";
const REVERSE = "bluegreen_green_to_blue";

function state(tables: string[], pubs: Record<string, string[]>, subs: Array<{ name: string; publications: string[] }>, withoutIdentity: string[] = []): ReplicationState {
  return {
    tables: new Set(tables),
    publications: new Map(Object.entries(pubs).map(([k, v]) => [k, new Set(v)])),
    subscriptions: subs,
    withoutIdentity: new Set(withoutIdentity),
  };
}

describe("apply order", () => {
  it("expand: the receiver first, then the writer; contract: the writer first", () => {
    expect(applyOrder("expand", "blue")).toEqual(["green", "blue"]);
    expect(applyOrder("expand", "green")).toEqual(["blue", "green"]);
    expect(applyOrder("contract", "green")).toEqual(["green", "blue"]);
    expect(applyOrder("contract", "blue")).toEqual(["blue", "green"]);
  });
});

describe("replication catch-up after a migration", () => {
  const t = '"public"."orders"';
  const n = '"public"."invoices"';
  const blueBefore = state([t], { [FORWARD]: [t] }, [{ name: REVERSE, publications: [REVERSE] }]);
  const greenBefore = state([t], { [REVERSE]: [t] }, [{ name: FORWARD, publications: [FORWARD] }]);

  it("a new table joins both publications; both subscriptions are refreshed, after the publications", () => {
    const out = replicationCatchUp(
      { blue: blueBefore, green: greenBefore },
      { blue: state([t, n], { [FORWARD]: [t] }, blueBefore.subscriptions), green: state([t, n], { [REVERSE]: [t] }, greenBefore.subscriptions) },
    );
    expect(out.statements.map((s) => `${s.on}: ${s.sql}`)).toEqual([
      `blue: ALTER PUBLICATION "${FORWARD}" ADD TABLE ${n}`,
      `green: ALTER PUBLICATION "${REVERSE}" ADD TABLE ${n}`,
      `blue: ALTER SUBSCRIPTION "${REVERSE}" REFRESH PUBLICATION WITH (copy_data = false)`,
      `green: ALTER SUBSCRIPTION "${FORWARD}" REFRESH PUBLICATION WITH (copy_data = false)`,
    ]);
    expect(out.warnings).toEqual([]);
  });

  it("a column change only (no table created or dropped): nothing to do", () => {
    expect(replicationCatchUp({ blue: blueBefore, green: greenBefore }, { blue: blueBefore, green: greenBefore }).statements).toEqual([]);
  });

  it("a dropped published table: the subscriber refreshes; nothing is added", () => {
    const out = replicationCatchUp(
      { blue: blueBefore, green: greenBefore },
      { blue: state([], { [FORWARD]: [] }, blueBefore.subscriptions), green: state([], { [REVERSE]: [] }, greenBefore.subscriptions) },
    );
    expect(out.statements.map((s) => s.sql)).toEqual([
      `ALTER SUBSCRIPTION "${REVERSE}" REFRESH PUBLICATION WITH (copy_data = false)`,
      `ALTER SUBSCRIPTION "${FORWARD}" REFRESH PUBLICATION WITH (copy_data = false)`,
    ]);
  });

  it("only one direction running: only its publication and subscription are touched", () => {
    const blue = state([t], { [FORWARD]: [t] }, []);
    const green = state([t], {}, [{ name: FORWARD, publications: [FORWARD] }]);
    const out = replicationCatchUp({ blue, green }, { blue: state([t, n], { [FORWARD]: [t] }, []), green: state([t, n], {}, green.subscriptions) });
    expect(out.statements.map((s) => `${s.on}: ${s.sql}`)).toEqual([
      `blue: ALTER PUBLICATION "${FORWARD}" ADD TABLE ${n}`,
      `green: ALTER SUBSCRIPTION "${FORWARD}" REFRESH PUBLICATION WITH (copy_data = false)`,
    ]);
  });

  it("a new table without a primary key or replica identity is added with a warning", () => {
    const out = replicationCatchUp(
      { blue: blueBefore, green: greenBefore },
      { blue: state([t, n], { [FORWARD]: [t] }, blueBefore.subscriptions, [n]), green: state([t, n], { [REVERSE]: [t] }, greenBefore.subscriptions, [n]) },
    );
    expect(out.warnings).toHaveLength(2);
    expect(out.warnings[0]).toMatch(/invoices" has no primary key or replica identity: UPDATE and DELETE on it fail/);
  });

  it("no replication at all: nothing", () => {
    const none = state([t], {}, []);
    expect(replicationCatchUp({ blue: none, green: none }, { blue: state([t, n], {}, []), green: state([t, n], {}, []) }).statements).toEqual([]);
  });
});
