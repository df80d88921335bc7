// ESLint with typescript-eslint's type-aware rules: the ones that catch what tsc does not in an
// async, abort-driven code base (a promise nobody awaits, a promise passed where a callback's
// result is ignored, `await` on a non-promise). Formatting is Prettier's (.prettierrc.json).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The type-aware rules this project is here for.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false, attributes: false } }],
      "@typescript-eslint/await-thenable": "error",
      // Unused: an underscore marks what is kept on purpose (a destructured field left out).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // Data from JSON, the SDK and pg arrives as `any`/`unknown` and is checked by hand where it matters;
      // these would flag every such line without finding bugs.
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-explicit-any": "off",
      // Templates interpolate numbers and errors on purpose (messages for operators).
      "@typescript-eslint/restrict-template-expressions": "off",
      "@typescript-eslint/no-base-to-string": "off",
      // Async functions that implement a port without awaiting (a fake, a sync adapter) are fine.
      "@typescript-eslint/require-await": "off",
      // `throw error` of unknown values caught elsewhere is how errors travel here.
      "@typescript-eslint/only-throw-error": "off",
      "@typescript-eslint/prefer-promise-reject-errors": "off",
      "@typescript-eslint/no-redundant-type-constituents": "off",
      "@typescript-eslint/unbound-method": "off",
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
      "no-empty": ["error", { allowEmptyCatch: true }],
      // Style, not bugs: a default assigned before a try that may replace it.
      "no-useless-assignment": "off",
      // Errors wrapped for operators carry the cause's text in their message; attaching a cause is a
      // welcome change, left to the owners of those modules.
      "preserve-caught-error": "off",
      "no-control-regex": "off",
    },
  },
  {
    // Tests: fakes and spies implement ports loosely; vitest's expect(...).rejects is awaited where it matters.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-floating-promises": "off",
      "@typescript-eslint/no-misused-promises": "off",
      "@typescript-eslint/no-empty-function": "off",
      "@typescript-eslint/no-unused-expressions": "off",
      "@typescript-eslint/await-thenable": "off",
      "no-regex-spaces": "off",
    },
  },
  {
    files: ["**/*.js", "**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The policy pack's CommonJS entry point for Pulumi's runner.
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { module: "writable", require: "readonly" } },
  },
);
