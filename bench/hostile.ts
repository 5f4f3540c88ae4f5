import { signDevToken } from '../src/auth/dev-token.ts';
import type { Database } from '../src/db/database.ts';
import { demoAdmin, embeddedTarget, SECRET, serverTarget, startServer, stopServer, type Target } from './harness.ts';

// `npm run bench:hostile`: what hostile operations cost a real server process. Each refusal's
// latency (p50/p99 over TRIES), and the heap a request of the most expensive shapes the limits
// still allow grows by, on data filled to the largest values the schema accepts.
const TRIES = Number(process.env.BENCH_TRIES ?? 30);

/** The demo tenant filled with rows as large as the columns allow, so allowed queries read the most. */
async function fill(owner: Database): Promise<void> {
  await owner.query(`
    with tenant as (select id from public.tenants where slug = 'default-organization'),
         author as (select user_id as id from public.tenant_users where tenant_id = (select id from tenant) and role = 'OWNER'),
         project as (select id from public.projects where tenant_id = (select id from tenant) order by created_at limit 1)
    insert into public.analyses (tenant_id, user_id, project_id, type, input, status, result, metadata)
    select (select id from tenant), (select id from author), (select id from project), 'TEXT_ANALYSIS',
           repeat('large input ', 8300), 'COMPLETED', jsonb_build_object('summary', repeat('x', 60000)),
           jsonb_build_object('notes', repeat('y', 60000))
    from generate_series(1, 120)`);
  await owner.query(`
    insert into public.contract_analyses (tenant_id, user_id, contract_title, contract_type, extracted_text)
    select tu.tenant_id, tu.user_id, 'Long contract ' || n, 'NDA', repeat('clause text ', 83333)
    from public.tenant_users tu join public.tenants t on t.id = tu.tenant_id and t.slug = 'default-organization'
    cross join generate_series(1, 30) as n
    where tu.role = 'OWNER'`);
  await owner.query(`
    insert into public.posts (tenant_id, author_id, title, slug, content, published)
    select tu.tenant_id, tu.user_id, 'Long post ' || n, 'long-post-' || n, repeat('long content ', 15000), true
    from public.tenant_users tu join public.tenants t on t.id = tu.tenant_id and t.slug = 'default-organization'
    cross join generate_series(1, 100) as n
    where tu.role = 'OWNER'`);
}

interface Hostile {
  name: string;
  body: string;
}

function nested(levels: number): string {
  let inner = 'id';
  for (let i = 0; i < levels; i += 1) inner = `analyses(first: 100) { edges { node { project { ${inner} } } } }`;
  return `{ projects(first: 100) { edges { node { ${inner} } } } }`;
}

const HOSTILE: Hostile[] = [
  { name: '20 levels of 100-item pages', body: JSON.stringify({ query: nested(20) }) },
  { name: '3 levels of 100-item pages', body: JSON.stringify({ query: nested(2) }) },
  { name: '2,000 aliases', body: JSON.stringify({ query: `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: projects(first: 100) { totalCount }`).join(' ')} }` }) },
  {
    name: 'nodes(ids:) with 100,000 ids',
    body: JSON.stringify({ query: 'query ($ids: [ID!]!) { nodes(ids: $ids) { id } }', variables: { ids: Array.from({ length: 100_000 }, (_, i) => `id${i}`) } }),
  },
  { name: '8 MB body', body: JSON.stringify({ query: '{ viewer { role } }', variables: { pad: 'x'.repeat(8 * 1024 * 1024) } }) },
];

/** The most expensive shapes under the default limits, over the filled rows (the last is just over them). */
const ALLOWED: Hostile[] = [
  { name: '80 analyses: input, result, metadata', body: JSON.stringify({ query: '{ analyses(first: 80) { edges { node { input result metadata project { name } } } } }' }) },
  { name: '70 posts: content, metadata', body: JSON.stringify({ query: '{ posts(first: 70) { edges { node { title content metadata } } } }' }) },
  { name: '19 contracts: 1M-character text', body: JSON.stringify({ query: '{ contractAnalyses(first: 19) { edges { node { extractedText } } } }' }) },
  { name: '100 analyses: input, result, metadata', body: JSON.stringify({ query: '{ analyses(first: 100) { edges { node { input result metadata project { name } } } } }' }) },
];

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((values.length * p) / 100))]!;

async function heapUsed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^nodejs_heap_size_used_bytes (\d+)/m.exec(text)?.[1] ?? NaN);
}

async function send(url: string, token: string, body: string) {
  const started = performance.now();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${token}` },
    body,
  });
  const text = await response.text();
  const code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code ?? 'ok';
  return { ms: performance.now() - started, status: response.status, code, bytes: text.length };
}

async function benchTarget(target: Target): Promise<void> {
  // --expose-gc is not needed: the peak is sampled while the request runs, against the heap before it.
  const { child, url } = await startServer({ ...target.env, QUERY_MAX_COST: process.env.QUERY_MAX_COST ?? '10000' });
  try {
    const token = await signDevToken(SECRET, await demoAdmin(target));
    console.log(`\n${target.label}: refusals (${TRIES} tries each)`);
    console.log('operation                                   status  code                 p50 ms   p99 ms');
    for (const hostile of HOSTILE) {
      const runs = [];
      for (let i = 0; i < TRIES; i += 1) runs.push(await send(url, token, hostile.body));
      const { status, code } = runs[0]!;
      const ms = runs.map((run) => run.ms);
      console.log(`${hostile.name.padEnd(43)} ${String(status).padStart(6)}  ${code.padEnd(18)} ${percentile(ms, 50).toFixed(1).padStart(8)} ${percentile(ms, 99).toFixed(1).padStart(8)}`);
    }
    console.log(`\n${target.label}: the most expensive shapes the default limits allow`);
    console.log('operation                                   status  response MB   heap growth MB (peak while serving)');
    for (const allowed of ALLOWED) {
      const before = await heapUsed(url);
      let peak = before;
      let done = false;
      const sampling = (async () => {
        while (!done) {
          peak = Math.max(peak, await heapUsed(url));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();
      const result = await send(url, token, allowed.body);
      done = true;
      await sampling;
      console.log(
        `${allowed.name.padEnd(43)} ${String(result.status).padStart(6)}  ${(result.bytes / 1e6).toFixed(1).padStart(11)}   ${((peak - before) / 1e6).toFixed(1).padStart(14)}`,
      );
    }
    console.log(`server still answering: ${(await send(url, token, JSON.stringify({ query: '{ viewer { role } }' }))).code}`);
  } finally {
    await stopServer(child);
  }
}

const targets = [await embeddedTarget(fill)];
if (process.env.DATABASE_URL) targets.push(await serverTarget(process.env.DATABASE_URL, fill));
for (const target of targets) {
  try {
    await benchTarget(target);
  } finally {
    await target.cleanup();
  }
}
