import type { DevIdentity } from '../src/auth/dev-identities.ts';
import { signDevToken } from '../src/auth/dev-token.ts';
import { createTokenVerifier } from '../src/auth/verifier.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/open.ts';
import { createGateway } from '../src/server/yoga.ts';
import { demoAdmin, drive, embeddedTarget, type LoadFigures, SECRET, serverTarget, startServer, stopServer, type Target } from './harness.ts';
import { type Scenario, SCENARIOS } from './scenarios.ts';

// `npm run bench`: drives a real server process over HTTP with autocannon, embedded and,
// when DATABASE_URL names a disposable server (superuser URL), on PostgreSQL too.
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);

interface Figures extends LoadFigures {
  scenario: string;
}

/** Load through a separate server process, so the load generator does not share its event loop. */
async function load(target: Target): Promise<{ figures: Figures[]; admin: DevIdentity }> {
  const { child, url } = await startServer(target.env);
  try {
    const admin = await demoAdmin(target);
    const token = await signDevToken(SECRET, admin);
    const figures: Figures[] = [];
    for (const scenario of SCENARIOS) {
      const operation = { query: scenario.query, variables: scenario.variables?.() };
      const measured = await drive(url, token, operation, { connections: CONNECTIONS, seconds: DURATION_SECONDS });
      figures.push({ scenario: scenario.name, ...measured });
    }
    return { figures, admin };
  } finally {
    await stopServer(child);
  }
}

/** Statements per request, counted in-process on the same database once the server is gone. */
async function countStatements(target: Target, admin: DevIdentity, scenarios: Scenario[]): Promise<number[]> {
  const statements: string[] = [];
  const { DATABASE_URL: _unused, ...inherited } = process.env;
  const config = loadConfig({ ...inherited, ...target.env, NODE_ENV: 'production', SUPABASE_JWT_SECRET: SECRET, LOAD_DEMO_DATA: 'false' });
  const database = await openDatabase(config, (sql) => statements.push(sql));
  try {
    const yoga = createGateway({
      db: database.gateway,
      prisma: database.prisma,
      verifyToken: createTokenVerifier({ hsSecret: SECRET, audience: 'authenticated' }),
    });
    const token = await signDevToken(SECRET, admin);
    const counts: number[] = [];
    for (const scenario of scenarios) {
      statements.length = 0;
      const response = await yoga.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: scenario.query, variables: scenario.variables?.() }),
      });
      const body = (await response.json()) as { errors?: unknown[] };
      if (body.errors) throw new Error(`scenario ${scenario.name} failed: ${JSON.stringify(body.errors)}`);
      counts.push(statements.length);
    }
    return counts;
  } finally {
    await database.close();
  }
}

async function benchTarget(target: Target): Promise<void> {
  const { figures, admin } = await load(target);
  const counts = await countStatements(target, admin, SCENARIOS);
  console.log(`\n${target.label}: ${CONNECTIONS} connections, ${DURATION_SECONDS} s per scenario`);
  console.log('scenario          req/s   p50 ms   p99 ms   failed   SQL statements/request');
  figures.forEach((f, i) =>
    console.log(
      `${f.scenario.padEnd(15)} ${f.requestsPerSecond.toFixed(0).padStart(7)} ${String(f.p50).padStart(8)} ${String(f.p99).padStart(8)} ${String(f.failures).padStart(8)} ${String(counts[i]).padStart(8)}`,
    ),
  );
}

const targets = [await embeddedTarget()];
if (process.env.DATABASE_URL) targets.push(await serverTarget(process.env.DATABASE_URL));
for (const target of targets) {
  try {
    await benchTarget(target);
  } finally {
    await target.cleanup();
  }
}
