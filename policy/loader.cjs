// Entry point of the policy pack for Pulumi's policy runner, which loads a pack with require():
// register tsx (a runtime dependency of the project) for ES modules, then import the TypeScript
// pack. The runner awaits the exported promise.
module.exports = import("tsx/esm/api").then(({ register }) => {
  register();
  return import("./index.ts");
});
