// The shared connection helper (scripts/net/pgConnection.ts) under the name parity's connections
// import it by; every other module imports scripts/net/pgConnection.ts itself.

export * from "../net/pgConnection.js";
