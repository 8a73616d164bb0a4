// ESLint flat config: typescript-eslint's recommended rules over every package's sources,
// tests and tools. Formatting is prettier's job (`prettier --check .` in `npm run lint`),
// so no stylistic rules are enabled here.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/dist/**",
      "**/.tsbuild/**",
      "docs/api/**",
      "coverage/**",
      ".hvkit-reports/**",
      "**/corpus/**",
      "**/golden/**",
      // Scratch files (`*.tmp.ts`, `*.tmp.mjs`) are never committed.
      "**/*.tmp.*",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
      },
    },
    rules: {
      // `_`-prefixed parameters document an unused argument a contract requires.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
      // Bit-twiddling interpreters compare against constant expressions on purpose.
      "no-constant-condition": ["error", { checkLoops: false }],
    },
  },
  {
    files: ["**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
