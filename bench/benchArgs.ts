// Numeric flags of the benchmarks: a whole number within bounds, or exit 2 naming the flag and
// the rule (commander prints "option '--rows <n>' argument '-1' is invalid. must be …").
// `--rows -1` used to run and `--workers 0` to hang.

import { InvalidArgumentError } from "commander";

export function wholeNumber(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\d[\d_]*$/.test(value) ? Number(value.replace(/_/g, "")) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw Object.assign(new InvalidArgumentError(`must be a whole number from ${min} to ${max}`), { exitCode: 2 });
    }
    return n;
  };
}
