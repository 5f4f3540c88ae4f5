import { readFile } from 'node:fs/promises';
import { signDevToken } from '../src/auth/dev-token.ts';
import type { Database } from '../src/db/database.ts';
import { openPostgres } from '../src/db/postgres.ts';
import { demoAdmin, drive, embeddedTarget, type LoadFigures, SECRET, serverTarget, startServer, stopServer, type Target } from './harness.ts';

// `npm run bench:nested`: what a nested page costs as its parent's children grow. W1's shape (the
// 50 newest projects of a tenant with 1,000, each with its owner and 5 newest analyses, plus
// totalCount) is measured, then 20,000 analyses are added to one of those 50 projects and it is
// measured again. A page that costs O(page) keeps its latency; the server's peak RSS is sampled
// throughout. On PostgreSQL when DATABASE_URL names a disposable server (superuser URL), else embedded.
const DURATION_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const CROWD = Number(process.env.BENCH_CHILDREN ?? 20_000);

const W1 = `{ projects(first: 50) { totalCount edges { node { id name status createdAt owner { id name }
  analyses(first: 5) { edges { node { id type status confidence createdAt } } } } } } }`;

const ADMIN_TENANT = `select tu.tenant_id, u.id as user_id from public.users u
  join public.tenant_users tu on tu.user_id = u.id where u.email = 'admin@example.com' order by tu.created_at limit 1`;

/** A tenant of 1,000 projects with 5 analyses each, the demo admin's. */
async function thousandProjects(owner: Database): Promise<void> {
  // Above the plan's project quota, which is not what this measures.
  await owner.query(`update public.tenants t set max_projects = 100000 from (${ADMIN_TENANT}) who where t.id = who.tenant_id`);
  await owner.query(
    `with who as (${ADMIN_TENANT}),
     made as (
       insert into public.projects (tenant_id, user_id, name, created_at)
       select who.tenant_id, who.user_id, 'Bench project ' || i, now() - i * interval '1 minute'
       from who, generate_series(1, 1000) as i
       returning id, tenant_id, user_id
     )
     insert into public.analyses (tenant_id, user_id, project_id, type, input, status, created_at)
     select made.tenant_id, made.user_id, made.id, 'TEXT_ANALYSIS', 'bench input ' || j, 'COMPLETED',
            now() - j * interval '1 second'
     from made, generate_series(1, 5) as j`,
  );
  await owner.exec('analyze');
}

/** `CROWD` more analyses on the newest project, the first row of W1's page. */
async function crowdNewestProject(owner: Database): Promise<void> {
  await owner.query(
    `with who as (${ADMIN_TENANT}),
     newest as (
       select p.id, p.tenant_id, p.user_id from public.projects p, who
       where p.tenant_id = who.tenant_id order by p.created_at desc, p.id limit 1
     )
     insert into public.analyses (tenant_id, user_id, project_id, type, input, status, created_at)
     select newest.tenant_id, newest.user_id, newest.id, 'TEXT_ANALYSIS', 'crowd ' || i, 'COMPLETED',
            now() - i * interval '10 milliseconds'
     from newest, generate_series(1, $1::int) as i`,
    [CROWD],
  );
  await owner.exec('analyze public.analyses');
}

/** The peak resident set of a process while fn runs, sampled every 100 ms (Linux /proc). */
async function peakRss<T>(pid: number, fn: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = 0;
  const sample = async () => {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kb);
  };
  const timer = setInterval(() => void sample(), 100);
  try {
    const result = await fn();
    await sample();
    return { result, peakMb: peak / 1024 };
  } finally {
    clearInterval(timer);
  }
}

interface Figures extends LoadFigures {
  label: string;
  peakRssMb: number;
}

async function measure(label: string, url: string, token: string, pid: number): Promise<Figures> {
  const { result, peakMb } = await peakRss(pid, () =>
    drive(url, token, { query: W1 }, { connections: CONNECTIONS, seconds: DURATION_SECONDS }),
  );
  return { label, ...result, peakRssMb: peakMb };
}

/** The owner's handle on the target's database, for adding rows between the two runs. */
function ownerOf(target: Target): Database | undefined {
  const url = target.env.MIGRATION_DATABASE_URL;
  return url ? openPostgres(url, { max: 1 }) : undefined;
}

async function benchTarget(target: Target): Promise<Figures[]> {
  const figures: Figures[] = [];
  let server = await startServer(target.env);
  try {
    const token = await signDevToken(SECRET, await demoAdmin(target));
    // One request first: the answer must be a whole page, not an error measured as fast.
    const check = (await (await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: W1 }),
    })).json()) as { data?: { projects: { edges: unknown[] } }; errors?: unknown };
    if (!check.data || check.data.projects.edges.length !== 50) throw new Error(`W1 failed: ${JSON.stringify(check).slice(0, 500)}`);
    figures.push(await measure('W1, 5 analyses per project', server.url, token, server.child.pid!));

    const owner = ownerOf(target);
    if (owner) {
      await crowdNewestProject(owner).finally(() => owner.close());
    } else {
      // PGlite has one connection, held by the server: stop it, add the rows, start it again.
      await stopServer(server.child);
      const { openPglite, pgliteOwner } = await import('../src/db/pglite.ts');
      const pg = await openPglite(target.env.DATA_DIR);
      await crowdNewestProject(pgliteOwner(pg)).finally(() => pg.close());
      server = await startServer(target.env);
    }
    figures.push(await measure(`W1, ${CROWD} more on one`, server.url, token, server.child.pid!));
  } finally {
    await stopServer(server.child);
  }
  return figures;
}

const target = process.env.DATABASE_URL
  ? await serverTarget(process.env.DATABASE_URL, thousandProjects)
  : await embeddedTarget(thousandProjects);
try {
  const [before, after] = await benchTarget(target);
  console.log(`\n${target.label}: ${CONNECTIONS} connections, ${DURATION_SECONDS} s per run`);
  console.log('run                               req/s   p50 ms   p99 ms   failed   peak RSS MB');
  for (const f of [before!, after!]) {
    console.log(
      `${f.label.padEnd(31)} ${f.requestsPerSecond.toFixed(0).padStart(7)} ${String(f.p50).padStart(8)} ${String(f.p99).padStart(8)} ${String(f.failures).padStart(8)} ${f.peakRssMb.toFixed(0).padStart(13)}`,
    );
  }
  console.log(
    `latency with ${CROWD} more children: p50 x${(after!.p50 / before!.p50).toFixed(2)}, throughput x${(after!.requestsPerSecond / before!.requestsPerSecond).toFixed(2)} (O(page): both near 1)`,
  );
} finally {
  await target.cleanup();
}
