#!/usr/bin/env node
// Runs `prisma generate` with the project's local Prisma CLI (npm `postinstall`).
// Generation needs no network and no database; the exit code is Prisma's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'node_modules', 'prisma', 'build', 'index.js');

if (!existsSync(cli)) {
  console.error(`prisma-generate: ${cli} not found; run npm install first.`);
  process.exit(1);
}

const env = { ...process.env };
// The CLI downloads a schema-engine binary it never uses for `generate` (that runs on bundled
// WASM) unless this names an existing file; Node's own executable is one, so offline installs work.
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
// Prisma finds generator providers (prisma-pothos-types) on PATH, as npm scripts and npx set it.
env.PATH = [join(root, 'node_modules', '.bin'), env.PATH].filter(Boolean).join(delimiter);

const result = spawnSync(process.execPath, [cli, 'generate'], { cwd: root, env, stdio: 'inherit' });
if (result.error) {
  console.error(`prisma-generate: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
