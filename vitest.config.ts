import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // graphql ships CJS (main) and ESM (module) builds; Node loads the CJS one for graphql-yoga and
  // Pothos, so tests must too, or two copies of graphql meet and instanceof checks fail.
  resolve: { alias: { graphql: fileURLToPath(new URL('node_modules/graphql/index.js', import.meta.url)) } },
  test: {
    include: ['tests/**/*.test.ts'],
    // Each file opens its own database; PGlite start-up and migrations take a few seconds.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
