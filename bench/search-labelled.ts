import { randomUUID } from 'node:crypto';
import type { DevIdentity } from '../src/auth/dev-identities.ts';
import { signDevToken } from '../src/auth/dev-token.ts';
import type { Database } from '../src/db/database.ts';
import { vectorLiteral } from '../src/search/ranking.ts';
import { SECRET } from './harness.ts';

// The labelled set of `npm run bench:search`: posts on everyday topics of a company, and queries
// that each name rows they should find in other words. No query shares a word (as the English
// stemmer sees it) with the posts it should find, so full-text search alone finds next to
// nothing and whatever HYBRID adds comes from the vector ranking.

export interface LabelledPost {
  key: string;
  title: string;
  content: string;
}

export interface LabelledQuery {
  text: string;
  /** Keys of the posts it should find. */
  expect: readonly string[];
}

export const LABELLED_POSTS: readonly LabelledPost[] = [
  { key: 'overdue', title: 'Chasing overdue accounts', content: 'Several customers keep settling their bills weeks after they were due. Finance will send reminders sooner and add a fee after sixty days.' },
  { key: 'cashflow', title: 'Cash flow this quarter', content: 'Our balance suffered because clients took far longer than agreed to pay what they owed.' },
  { key: 'reset', title: 'Locked out of your account?', content: 'Use the reset link on the sign-in page to choose a new password; the link expires after one hour.' },
  { key: 'courier', title: 'Courier strike holds up parcels', content: 'Deliveries to the northern region will take an extra week while drivers are on strike.' },
  { key: 'refund', title: 'Refund policy', content: 'Customers who mail a product to us within thirty days receive the full price on their card.' },
  { key: 'remote', title: 'Remote days', content: 'Staff may do their jobs from their own house on Mondays and Fridays, as long as they join the morning call.' },
  { key: 'outage', title: 'Outage report', content: 'The site was unreachable for two hours after a server crash; the fix is deployed and monitoring is tighter.' },
  { key: 'failover', title: 'Database failover postmortem', content: 'The primary stopped answering at noon and the replica took over; visitors saw errors for ten minutes.' },
  { key: 'recruiting', title: 'We are recruiting developers', content: 'Two open positions for programmers on the platform team; referrals earn a bonus.' },
  { key: 'phishing', title: 'Phishing warning', content: 'Never type your credentials into a link from an unexpected message, even if it looks like it comes from IT.' },
  { key: 'closure', title: 'Office closed at the end of December', content: 'We shut between Christmas and New Year; vacation requests for the break are due by November.' },
  { key: 'espresso', title: 'Espresso machine out of order', content: 'The machine in the kitchen stopped running; a technician comes on Tuesday.' },
  { key: 'garage', title: 'Garage spots', content: 'Spaces for vehicles in the basement are assigned by lottery each quarter; bicycles go by the entrance.' },
  { key: 'churn', title: 'Churn rose this quarter', content: 'More clients ended their plans after the price change, mostly small teams on monthly billing.' },
  { key: 'mobile', title: 'Mobile release 4.2 freezes', content: 'On older Android devices the new version hangs and closes unexpectedly; a patch ships Friday.' },
  { key: 'expenses', title: 'Expense claims', content: 'Flights, hotels and taxis for trips must be filed within thirty days with receipts attached.' },
  { key: 'gdpr', title: 'GDPR obligations', content: 'Information about European users must be stored in the EU and erased when they request it.' },
  { key: 'reviews', title: 'Performance reviews', content: 'Twice a year managers sit down with each staff member to discuss goals and progress.' },
  // Nothing below is any query's answer.
  { key: 'lunch', title: 'Team lunch on Thursday', content: 'Pizza and salads in the big meeting room at noon; tell Anna about allergies.' },
  { key: 'recycling', title: 'Recycling bins', content: 'Paper, plastic and glass now go in separate containers on every floor.' },
  { key: 'campaign', title: 'Spring marketing campaign', content: 'Billboards and radio spots start in March, aimed at students.' },
  { key: 'revenue', title: 'Quarterly revenue', content: 'Sales grew eight percent, led by the enterprise plan in Germany.' },
  { key: 'logo', title: 'New logo', content: 'The design agency delivered three options; vote for your favourite by Friday.' },
  { key: 'drill', title: 'Fire drill', content: 'The alarm test is Wednesday at ten; use the stairs, not the elevators.' },
  { key: 'printer', title: 'Printer on the third floor', content: 'It jams on thick paper; use the one by reception for labels.' },
  { key: 'charity', title: 'Charity run', content: 'Join our team for the 10k in May; the company matches donations.' },
  { key: 'accessibility', title: 'Accessibility audit', content: 'Screen reader support for the dashboard improves in the next sprint.' },
  { key: 'board', title: 'Board meeting notes', content: 'Directors approved the budget and the new office in Lisbon.' },
  { key: 'yoga', title: 'Yoga class moved', content: 'The late afternoon class is now in room 3.' },
  { key: 'onboarding', title: 'Onboarding checklist', content: 'New starters get a laptop, a badge and a buddy in their first week.' },
  { key: 'support', title: 'Customer support hours', content: 'The help desk answers chats from eight to eight on weekdays.' },
  { key: 'pricing', title: 'Price change announcement', content: 'From July the standard plan is twelve euros per seat.' },
];

export const LABELLED_QUERIES: readonly LabelledQuery[] = [
  { text: 'late invoice payments', expect: ['overdue', 'cashflow'] },
  { text: 'forgot my login credentials', expect: ['reset'] },
  { text: 'shipments arriving late', expect: ['courier'] },
  { text: 'money back for returned items', expect: ['refund'] },
  { text: 'working from home', expect: ['remote'] },
  { text: 'website went down', expect: ['outage', 'failover'] },
  { text: 'hiring software engineers', expect: ['recruiting'] },
  { text: 'suspicious emails asking for passwords', expect: ['phishing'] },
  { text: 'holiday schedule', expect: ['closure'] },
  { text: 'coffee maker broken', expect: ['espresso'] },
  { text: 'where to leave my car', expect: ['garage'] },
  { text: 'customers cancelling their subscriptions', expect: ['churn'] },
  { text: 'app keeps crashing on phones', expect: ['mobile'] },
  { text: 'reimbursement for travel costs', expect: ['expenses'] },
  { text: 'protecting personal data', expect: ['gdpr'] },
  { text: 'employee evaluations', expect: ['reviews'] },
];

export const LABELLED_MODES = ['KEYWORD', 'SEMANTIC', 'HYBRID'] as const;
export type LabelledMode = (typeof LABELLED_MODES)[number];

/** The tenant the labelled posts were written to, its member, and each post's id by key. */
export interface LabelledTenant {
  tenantId: string;
  userId: string;
  email: string;
  idsByKey: Map<string, string>;
  embeddingModel: string;
  /** Posts the model found no vector for (no word it knows): only full-text search can find them. */
  unembedded: string[];
}

/** A node's global id (base64 of `Typename:uuid`) as the row's id. */
export const rowIdOf = (globalId: string) => Buffer.from(globalId, 'base64').toString().split(':').slice(1).join(':');

/** A token for a bench tenant's member, with the tenant active. */
export function tokenFor(member: { tenantId: string; userId: string; email: string }): Promise<string> {
  const identity: DevIdentity = { id: member.userId, email: member.email, defaultTenantId: member.tenantId, tenants: [] };
  return signDevToken(SECRET, identity);
}

const POST_TEXT = `left(concat_ws(E'\\n', title, excerpt, content), 8000)`;

/**
 * Writes the labelled posts into a fresh tenant as the owner, without embeddings (as any writer
 * does), then does the worker's part itself: embeds each post's text (the worker's text: title,
 * excerpt, content) with the local provider and writes embedding and embedding_model, dropping
 * the queued embed jobs. Earlier runs' labelled tenants are removed first.
 */
export async function seedLabelledSet(owner: Database): Promise<LabelledTenant> {
  const { localProvider } = await import('../src/ai/local.ts');
  const provider = localProvider();
  await owner.query(`delete from public.tenants where slug like 'bench-labelled-%'`);
  await owner.query(`delete from auth.users where email like 'bench-labelled-%'`);
  const suffix = randomUUID().slice(0, 8);
  const member = { tenantId: randomUUID(), userId: randomUUID(), email: `bench-labelled-${suffix}@bench.test` };
  await owner.query(
    `insert into auth.users (id, email, raw_user_meta_data, email_confirmed_at) values ($1, $2, '{"name": "Labelled set member"}', now())`,
    [member.userId, member.email],
  );
  await owner.query(`insert into public.tenants (id, name, slug) values ($1, 'Bench labelled set', $2)`, [member.tenantId, `bench-labelled-${suffix}`]);
  await owner.query(`insert into public.tenant_users (tenant_id, user_id, role) values ($1, $2, 'MEMBER')`, [member.tenantId, member.userId]);
  await owner.query(
    `insert into public.tenant_settings (tenant_id, key, value) values ($1, 'limits.requests_per_minute', '1000000000')`,
    [member.tenantId],
  );
  const { rows } = await owner.query<{ id: string; key: string; text: string }>(
    `with made as (
       insert into public.posts (tenant_id, author_id, title, content, slug)
       select $1, $2, title, content, slug from unnest($3::text[], $4::text[], $5::text[]) as p (title, content, slug)
       returning id, slug, ${POST_TEXT} as text
     )
     select id::text as id, slug as key, text from made`,
    [member.tenantId, member.userId, LABELLED_POSTS.map((p) => p.title), LABELLED_POSTS.map((p) => p.content), LABELLED_POSTS.map((p) => p.key)],
  );
  const vectors = await provider.embed(rows.map((row) => row.text));
  const unembedded: string[] = [];
  for (const [index, row] of rows.entries()) {
    const vector = vectors[index];
    if (!vector) unembedded.push(row.key);
    await owner.query('update public.posts set embedding = $2::extensions.vector, embedding_model = $3 where id = $1', [
      row.id,
      vector ? vectorLiteral(vector) : null,
      provider.embeddingModel,
    ]);
  }
  await owner.query(`delete from private.jobs where kind = 'embed' and unique_key = any($1::text[])`, [rows.map((row) => `embed:posts:${row.id}`)]);
  return { ...member, idsByKey: new Map(rows.map((row) => [row.key, row.id])), embeddingModel: provider.embeddingModel, unembedded };
}

const SEARCH = `query ($q: String!, $mode: SearchMode) { search(input: { text: $q, kinds: [POST], mode: $mode }, first: 5) {
  edges { node { ... on Post { id } } } } }`;

export interface LabelledFigures {
  mode: LabelledMode;
  /** Queries with at least one expected post in the top 5. */
  found: number;
  /** Expected posts in the top 5, over all expected posts. */
  recall: number;
  /** Per query, expected posts in its top 5 (null: the request failed). */
  hits: (number | null)[];
  error?: string;
}

/** Each labelled query in each mode through the server's GraphQL search, as the tenant's member. */
export async function measureLabelledSet(url: string, tenant: LabelledTenant): Promise<{ tenant: LabelledTenant; figures: LabelledFigures[] }> {
  const token = await tokenFor(tenant);
  const figures: LabelledFigures[] = [];
  for (const mode of LABELLED_MODES) {
    const hits: (number | null)[] = [];
    let error: string | undefined;
    for (const query of LABELLED_QUERIES) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: SEARCH, variables: { q: query.text, mode } }),
      });
      const body = (await response.json()) as {
        data?: { search: { edges: { node: { id?: string } }[] } } | null;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      if (!body.data?.search) {
        const first = body.errors?.[0];
        error ??= `${first?.extensions?.code ? `${first.extensions.code}: ` : ''}${first?.message ?? `HTTP ${response.status}`}`;
        hits.push(null);
        continue;
      }
      const found = new Set(body.data.search.edges.map((edge) => rowIdOf(edge.node.id ?? '')));
      hits.push(query.expect.filter((key) => found.has(tenant.idsByKey.get(key)!)).length);
    }
    const expected = LABELLED_QUERIES.reduce((sum, query) => sum + query.expect.length, 0);
    figures.push({
      mode,
      found: hits.filter((n) => n !== null && n > 0).length,
      recall: hits.reduce<number>((sum, n) => sum + (n ?? 0), 0) / expected,
      hits,
      error,
    });
  }
  return { tenant, figures };
}

/** The labelled set's lines: the summary, a table per mode, and each query's hits. */
export function printLabelledSet({ tenant, figures }: { tenant: LabelledTenant; figures: LabelledFigures[] }): string[] {
  const n = LABELLED_QUERIES.length;
  const lines = [
    '',
    `labelled set (${n} queries, ${LABELLED_POSTS.length} posts in one tenant, embedded with ${tenant.embeddingModel}): ` +
      figures.map((f) => `${f.mode} found ${f.error && f.hits.every((h) => h === null) ? 'n/a' : `${f.found}/${n}`}`).join(', '),
  ];
  if (tenant.unembedded.length) lines.push(`posts without a vector (no word the model knows): ${tenant.unembedded.join(', ')}`);
  for (const f of figures) if (f.error) lines.push(`${f.mode} failed: ${f.error}`);
  lines.push('', '| mode | queries with an expected post in the top 5 | recall@5 |', '|---|---:|---:|');
  for (const f of figures) lines.push(`| ${f.mode} | ${f.found}/${n} | ${f.recall.toFixed(2)} |`);
  lines.push('', `| query | expected | ${figures.map((f) => f.mode).join(' | ')} |`, `|---|---|${figures.map(() => '---:').join('|')}|`);
  LABELLED_QUERIES.forEach((query, i) => {
    const cells = figures.map((f) => (f.hits[i] === null ? 'error' : `${f.hits[i]}/${query.expect.length}`));
    lines.push(`| ${query.text} | ${query.expect.join(', ')} | ${cells.join(' | ')} |`);
  });
  return lines;
}
