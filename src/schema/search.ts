import { builder } from './builder.ts';
import { AnalysisRef } from './analyses.ts';
import { PostRef } from './posts.ts';
import { ProjectRef } from './projects.ts';
import { searchText } from './filters.ts';
import { DomainError } from '../errors.ts';
import { isSignedIn } from '../session/claims.ts';
import { requireTenantId } from '../session/mutation.ts';
import type { GatewayContext } from '../session/context.ts';
import type { Prisma } from '../db/prisma.ts';

const SEARCH_KINDS = ['ANALYSIS', 'POST'] as const;
type SearchKind = (typeof SEARCH_KINDS)[number];
const SearchKindEnum = builder.enumType('SearchKind', { values: SEARCH_KINDS });

const SearchResult = builder.unionType('SearchResult', {
  types: [AnalysisRef, PostRef],
  resolveType: (row) => ('title' in row ? PostRef : AnalysisRef),
});

interface Hit {
  kind: SearchKind;
  id: string;
  score: number;
  offset: number;
  node: object;
}

const SearchEdge = builder.objectRef<Hit>('SearchEdge').implement({
  fields: (t) => ({
    cursor: t.string({ resolve: (hit) => cursorOf(hit.offset) }),
    score: t.exposeFloat('score', { description: 'Full-text rank (ts_rank, title/input weighted highest); higher is closer.' }),
    node: t.field({ type: SearchResult, resolve: (hit) => hit.node as never }),
  }),
});

interface SearchPage {
  hits: Hit[];
  hasNextPage: boolean;
}

const SearchPageInfo = builder.objectRef<SearchPage>('SearchPageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.exposeBoolean('hasNextPage'),
    endCursor: t.string({ nullable: true, resolve: ({ hits }) => (hits.length ? cursorOf(hits.at(-1)!.offset) : null) }),
  }),
});

const SearchConnection = builder.objectRef<SearchPage>('SearchConnection').implement({
  fields: (t) => ({
    edges: t.field({ type: [SearchEdge], resolve: (page) => page.hits }),
    pageInfo: t.field({ type: SearchPageInfo, resolve: (page) => page }),
  }),
});

const SearchInput = builder.inputType('SearchInput', {
  fields: (t) => ({
    text: t.string({ required: true, validate: searchText, description: 'Words to find, in web-search syntax: "quoted phrases", or, -excluded.' }),
    kinds: t.field({ type: [SearchKindEnum], required: false, description: 'Which rows to search; both by default (posts only when signed out).' }),
    projectId: t.globalID({ for: ProjectRef, required: false, description: 'Only analyses of this project (posts have no project).' }),
  }),
});

const SEARCH_PAGE = { defaultSize: 10, maxSize: 50 } as const;
const CURSOR_PREFIX = 'SR:';
const SEARCH_DEPTH = 5_000;
const cursorOf = (offset: number) => Buffer.from(`${CURSOR_PREFIX}${offset}`).toString('base64');

function offsetAfter(cursor: string | null | undefined): number {
  if (cursor == null) return 0;
  const text = Buffer.from(cursor, 'base64').toString();
  const offset = text.startsWith(CURSOR_PREFIX) ? Number(text.slice(CURSOR_PREFIX.length)) : Number.NaN;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new DomainError('VALIDATION_FAILED', 'after: not a cursor of search');
  // Each page re-ranks everything before it: results past the first few thousand are refused, not slowly found.
  if (offset + 1 > SEARCH_DEPTH) throw new DomainError('VALIDATION_FAILED', `after: search pages end after ${SEARCH_DEPTH} results; narrow the words instead`);
  return offset + 1;
}

builder.queryField('search', (t) =>
  t.field({
    type: SearchConnection,
    description:
      "Full-text search over the active tenant's analyses and posts, best match first. Signed out, published posts of every tenant. Row-level security decides what is found, as everywhere.",
    args: {
      input: t.arg({ type: SearchInput, required: true }),
      first: t.arg.int({ required: false, defaultValue: SEARCH_PAGE.defaultSize }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, { input, first, after }, ctx) => {
      const size = first ?? SEARCH_PAGE.defaultSize;
      if (!Number.isInteger(size) || size < 0 || size > SEARCH_PAGE.maxSize) {
        throw new DomainError('VALIDATION_FAILED', `first: expected 0 to ${SEARCH_PAGE.maxSize}, received ${size}`);
      }
      const offset = offsetAfter(after);
      const signedIn = isSignedIn(ctx.claims);
      const tenantId = signedIn ? await requireTenantId(ctx) : null;
      const kinds = new Set<SearchKind>(input.kinds?.length ? input.kinds : SEARCH_KINDS);
      // Signed out, the policies show no analysis: the statement does not ask for them.
      if (!signedIn) kinds.delete('ANALYSIS');
      // Posts belong to no project: a project filter searches analyses only.
      if (input.projectId) kinds.delete('POST');
      if (kinds.size === 0 || size === 0) return { hits: [], hasNextPage: false };
      const ranked = await rank(ctx, input.text, [...kinds], tenantId, input.projectId?.id ?? null, size + 1, offset);
      const hits = await withNodes(ctx, ranked.slice(0, size), offset);
      return { hits, hasNextPage: ranked.length > size };
    },
  }),
);

interface Ranked {
  kind: SearchKind;
  id: string;
  score: number;
}

/** The matching rows' ids by rank, one statement as the caller: the policies filter both tables. */
function rank(ctx: GatewayContext, text: string, kinds: SearchKind[], tenantId: string | null, projectId: string | null, limit: number, offset: number) {
  const parts: string[] = [];
  if (kinds.includes('POST')) {
    parts.push(`select 'POST' as kind, p.id, ts_rank(p.search_document, q.query) as score
      from public.posts p, q where p.search_document @@ q.query and (q.tenant_id is null or p.tenant_id = q.tenant_id)`);
  }
  if (kinds.includes('ANALYSIS')) {
    parts.push(`select 'ANALYSIS' as kind, a.id, ts_rank(a.search_document, q.query) as score
      from public.analyses a, q where a.search_document @@ q.query and a.tenant_id = q.tenant_id
        and (q.project_id is null or a.project_id = q.project_id)`);
  }
  const sql = `with q as (select websearch_to_tsquery('english', $1::text) as query, $2::uuid as tenant_id, $3::uuid as project_id)
    select kind, id::text as id, score::float8 as score from (${parts.join(' union all ')}) hits
    order by score desc, id limit $4::int offset $5::int`;
  return ctx.transaction.query<Ranked>(sql, [text, tenantId, projectId, limit, offset]);
}

/** Each hit with its row, read through Prisma as the caller, in rank order. */
async function withNodes(ctx: GatewayContext, ranked: Ranked[], offset: number): Promise<Hit[]> {
  const idsOf = (kind: SearchKind) => ranked.filter((hit) => hit.kind === kind).map((hit) => hit.id);
  const postIds = idsOf('POST');
  const analysisIds = idsOf('ANALYSIS');
  // A table with no hit is not read: signed out, analyses are not even granted.
  const [posts, analyses] = await Promise.all([
    postIds.length ? ctx.prisma.post.findMany({ where: { id: { in: postIds } } satisfies Prisma.PostWhereInput }) : [],
    analysisIds.length ? ctx.prisma.analysis.findMany({ where: { id: { in: analysisIds } } satisfies Prisma.AnalysisWhereInput }) : [],
  ]);
  const rows = new Map<string, object>([...posts, ...analyses].map((row) => [row.id, row]));
  const hits: Hit[] = [];
  ranked.forEach((hit, index) => {
    const node = rows.get(hit.id);
    // A row deleted between the two statements is left out, not answered as null.
    if (node) hits.push({ ...hit, score: Number(hit.score), offset: offset + index, node });
  });
  return hits;
}
