// Paired migrations, the pure part: which side gets the DDL first, and which publication and
// subscription statements bring the replication set in line with what a migration created or dropped.

import { describe, expect, it } from "vitest";
import { applyOrder, edgesOf, replicationCatchUp, sequence, type ReplicationState } from "../../scripts/postgres/migrate/replication.js";

const FORWARD = "bluegreen_blue_to_green";
const REVERSE = "bluegreen_green_to_blue";

function state(
  tables: string[],
  pubs: Record<string, string[]>,
  subs: Array<{ name: string; publications: string[]; enabled?: boolean }>,
  withoutIdentity: string[] = [],
): ReplicationState {
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

  it("a new table joins both publications; the writer's subscriber empties its copy first and refreshes with a copy, the other without", () => {
    const out = replicationCatchUp(
      { blue: blueBefore, green: greenBefore },
      { blue: state([t, n], { [FORWARD]: [t] }, blueBefore.subscriptions), green: state([t, n], { [REVERSE]: [t] }, greenBefore.subscriptions) },
      "blue",
    );
    expect(out.statements.map((s) => `${s.on}: ${s.sql}`)).toEqual([
      `green: TRUNCATE ${n}`,
      `blue: ALTER PUBLICATION "${FORWARD}" ADD TABLE ${n}`,
      `green: ALTER PUBLICATION "${REVERSE}" ADD TABLE ${n}`,
      `green: ALTER SUBSCRIPTION "${FORWARD}" REFRESH PUBLICATION WITH (copy_data = true)`,
      `blue: ALTER SUBSCRIPTION "${REVERSE}" REFRESH PUBLICATION WITH (copy_data = false)`,
    ]);
    expect(out.statements.find((s) => s.copy)?.copy).toEqual({ subscription: FORWARD, from: "blue", to: "green", tables: [n] });
    expect(out.warnings).toEqual([]);
  });

  it("green the writer: blue's copy is emptied and copied from green", () => {
    const out = replicationCatchUp(
      { blue: blueBefore, green: greenBefore },
      { blue: state([t, n], { [FORWARD]: [t] }, blueBefore.subscriptions), green: state([t, n], { [REVERSE]: [t] }, greenBefore.subscriptions) },
      "green",
    );
    expect(out.statements.filter((s) => !s.sql.startsWith("ALTER PUBLICATION")).map((s) => `${s.on}: ${s.sql}`)).toEqual([
      `blue: TRUNCATE ${n}`,
      `green: ALTER SUBSCRIPTION "${FORWARD}" REFRESH PUBLICATION WITH (copy_data = false)`,
      `blue: ALTER SUBSCRIPTION "${REVERSE}" REFRESH PUBLICATION WITH (copy_data = true)`,
    ]);
  });

  it("a column change only (no table created or dropped): nothing to do", () => {
    expect(replicationCatchUp({ blue: blueBefore, green: greenBefore }, { blue: blueBefore, green: greenBefore }, "blue").statements).toEqual([]);
  });

  it("a dropped published table: the subscriber refreshes; nothing is added", () => {
    const out = replicationCatchUp(
      { blue: blueBefore, green: greenBefore },
      { blue: state([], { [FORWARD]: [] }, blueBefore.subscriptions), green: state([], { [REVERSE]: [] }, greenBefore.subscriptions) },
      "blue",
    );
    expect(out.statements.map((s) => s.sql)).toEqual([
      `ALTER SUBSCRIPTION "${FORWARD}" REFRESH PUBLICATION WITH (copy_data = false)`,
      `ALTER SUBSCRIPTION "${REVERSE}" REFRESH PUBLICATION WITH (copy_data = false)`,
    ]);
  });

  it("only one direction running: only its publication and subscription are touched", () => {
    const blue = state([t], { [FORWARD]: [t] }, []);
    const green = state([t], {}, [{ name: FORWARD, publications: [FORWARD] }]);
    const out = replicationCatchUp({ blue, green }, { blue: state([t, n], { [FORWARD]: [t] }, []), green: state([t, n], {}, green.subscriptions) }, "blue");
    expect(out.statements.map((s) => `${s.on}: ${s.sql}`)).toEqual([
      `green: TRUNCATE ${n}`,
      `blue: ALTER PUBLICATION "${FORWARD}" ADD TABLE ${n}`,
      `green: ALTER SUBSCRIPTION "${FORWARD}" REFRESH PUBLICATION WITH (copy_data = true)`,
    ]);
  });

  it("a new table without a primary key or replica identity is added with a warning", () => {
    const out = replicationCatchUp(
      { blue: blueBefore, green: greenBefore },
      { blue: state([t, n], { [FORWARD]: [t] }, blueBefore.subscriptions, [n]), green: state([t, n], { [REVERSE]: [t] }, greenBefore.subscriptions, [n]) },
      "blue",
    );
    expect(out.warnings).toHaveLength(2);
    expect(out.warnings[0]).toMatch(/invoices" has no primary key or replica identity: UPDATE and DELETE on it fail/);
  });

  it("no replication at all: nothing", () => {
    const none = state([t], {}, []);
    expect(replicationCatchUp({ blue: none, green: none }, { blue: state([t, n], {}, []), green: state([t, n], {}, []) }, null).statements).toEqual([]);
  });

  it("a disabled subscription is not refreshed (PostgreSQL refuses it) and is named in a warning", () => {
    const green = state([t], { [REVERSE]: [t] }, [{ name: FORWARD, publications: [FORWARD], enabled: false }]);
    const out = replicationCatchUp(
      { blue: blueBefore, green },
      { blue: state([t, n], { [FORWARD]: [t] }, blueBefore.subscriptions), green: state([t, n], { [REVERSE]: [t] }, green.subscriptions) },
      "blue",
    );
    expect(out.statements.some((s) => s.sql.includes(`"${FORWARD}" REFRESH`))).toBe(false);
    expect(out.warnings.join("\n")).toMatch(/bluegreen_blue_to_green \(blue → green\) is disabled/);
  });
});

describe("the order of the sides follows the replication observed", () => {
  const t = '"public"."orders"';
  const forwardOnly = { blue: state([t], { [FORWARD]: [t] }, []), green: state([t], {}, [{ name: FORWARD, publications: [FORWARD] }]) };
  const both = {
    blue: state([t], { [FORWARD]: [t] }, [{ name: REVERSE, publications: [REVERSE] }]),
    green: state([t], { [REVERSE]: [t] }, [{ name: FORWARD, publications: [FORWARD] }]),
  };
  const reverseOnly = { blue: state([t], {}, [{ name: REVERSE, publications: [REVERSE] }]), green: state([t], { [REVERSE]: [t] }, []) };

  it("reads each subscription as an edge publisher → subscriber", () => {
    expect(edgesOf(both).map((e) => `${e.publisher}->${e.subscriber}:${e.subscription}`)).toEqual([`blue->green:${FORWARD}`, `green->blue:${REVERSE}`]);
    expect(edgesOf({ blue: state([t], {}, []), green: state([t], {}, [{ name: "other", publications: ["elsewhere"] }]) })).toEqual([]);
  });

  it("blue → green running, contract with the default writer green: blue (the publisher) first, not green", () => {
    const decided = sequence("contract", edgesOf(forwardOnly), "green", "default");
    expect(decided).toMatchObject({ order: ["blue", "green"], source: "blue" });
    expect(decided.contested).toBeUndefined();
    expect(decided.note).toMatch(/following bluegreen_blue_to_green \(blue → green\): blue first, not green/);
  });

  it("blue → green running, expand: green first; a named writer green that contradicts it: ordered by the replication, nothing copied, contested", () => {
    expect(sequence("expand", edgesOf(forwardOnly), "blue", "flag")).toMatchObject({ order: ["green", "blue"], source: "blue" });
    const contested = sequence("expand", edgesOf(forwardOnly), "green", "flag");
    expect(contested).toMatchObject({ order: ["green", "blue"], source: null });
    expect(contested.contested).toMatch(/the only replication running is bluegreen_blue_to_green \(blue → green\)/);
  });

  it("green → blue only: expand goes to blue first, contract to green first", () => {
    expect(sequence("expand", edgesOf(reverseOnly), "blue", "default")).toMatchObject({ order: ["blue", "green"], source: "green" });
    expect(sequence("contract", edgesOf(reverseOnly), "green", "flag")).toMatchObject({ order: ["green", "blue"], source: "green" });
  });

  it("both ways: the writer decides; no replication: the writer's order, nothing to copy from", () => {
    expect(sequence("expand", edgesOf(both), "green", "flag")).toMatchObject({ order: ["blue", "green"], source: "green" });
    expect(sequence("expand", [], "blue", "default")).toMatchObject({ order: ["green", "blue"], source: null });
  });
});
