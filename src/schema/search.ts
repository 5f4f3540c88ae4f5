import { builder } from './builder.ts';
import { AnalysisRef, AnalysisStatusEnum, AnalysisTypeEnum } from './analyses.ts';
import { PostRef } from './posts.ts';
import { ProjectRef } from './projects.ts';
import { searchText } from './filters.ts';
import { DomainError } from '../errors.ts';
import { isSignedIn } from '../session/claims.ts';
import { requireTenantId } from '../session/mutation.ts';
import type { GatewayContext } from '../session/context.ts';
import type { Prisma } from '../db/prisma.ts';
import { EMBEDDING_DIMENSIONS, normalize } from '../ai/provider.ts';
import { keywordRanking, type Ranked, type Statements, reciprocalRankFusion, type SearchKind, type SearchScope, vectorRanking } from '../search/ranking.ts';

const SEARCH_KINDS: readonly SearchKind[] = ['ANALYSIS', 'POST'];
const SearchKindEnum = builder.enumType('SearchKind', { values: ['ANALYSIS', 'POST'] as const satisfies readonly SearchKind[] });

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
    score: t.exposeFloat('score', { description: 'Higher is closer. KEYWORD: ts_rank; SEMANTIC: cosine similarity (-1 to 1); HYBRID: the reciprocal-rank-fusion score.' }),
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

const SearchModeEnum = builder.enumType('SearchMode', {
  values: {
    HYBRID: { description: 'Full-text and vector rankings fused by reciprocal rank (the default).' },
    SEMANTIC: { description: 'Vector similarity alone: cosine similarity of the embeddings.' },
    KEYWORD: { description: 'Full-text ranking alone (ts_rank; title or input weighted highest).' },
  } as const,
});
type SearchMode = 'HYBRID' | 'SEMANTIC' | 'KEYWORD';

const SearchInput = builder.inputType('SearchInput', {
  fields: (t) => ({
    text: t.string({ required: false, validate: searchText, description: 'Words to find, in web-search syntax ("quoted phrases", or, -excluded); embedded with the configured provider for the vector ranking.' }),
    vector: t.floatList({
      required: false,
      description: `A ready embedding of ${EMBEDDING_DIMENSIONS} numbers (for clients that embed themselves with the same model); used instead of embedding text.`,
    }),
    mode: t.field({ type: SearchModeEnum, required: false, defaultValue: 'HYBRID' }),
    kinds: t.field({ type: [SearchKindEnum], required: false, description: 'Which rows to search; both by default (posts only when signed out).' }),
    projectId: t.globalID({ for: ProjectRef, required: false, description: 'Only analyses of this project (posts have no project).' }),
    status: t.field({ type: AnalysisStatusEnum, required: false, description: 'Only analyses in this status.' }),
    type: t.field({ type: AnalysisTypeEnum, required: false, description: 'Only analyses of this type.' }),
    createdAfter: t.field({ type: 'DateTime', required: false }),
    createdBefore: t.field({ type: 'DateTime', required: false }),
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

function pageSize(first: number | null | undefined): number {
  const size = first ?? SEARCH_PAGE.defaultSize;
  if (!Number.isInteger(size) || size < 0 || size > SEARCH_PAGE.maxSize) {
    throw new DomainError('VALIDATION_FAILED', `first: expected 0 to ${SEARCH_PAGE.maxSize}, received ${size}`);
  }
  return size;
}

/** A client's vector: the right length, finite, not all zeros; scaled to unit length. */
function queryVector(values: readonly number[]): Float32Array {
  if (values.length !== EMBEDDING_DIMENSIONS) {
    throw new DomainError('VALIDATION_FAILED', `vector: expected ${EMBEDDING_DIMENSIONS} numbers, received ${values.length}`);
  }
  try {
    return normalize(Float32Array.from(values));
  } catch {
    throw new DomainError('VALIDATION_FAILED', 'vector: expected finite numbers, not all zero');
  }
}

/** The caller's part of the data: the active tenant when signed in, published posts when not. */
async function callerScope(ctx: GatewayContext, kindsAsked: readonly SearchKind[] | null | undefined) {
  const signedIn = isSignedIn(ctx.claims);
  const tenantId = signedIn ? await requireTenantId(ctx) : null;
  const kinds = new Set<SearchKind>(kindsAsked?.length ? kindsAsked : SEARCH_KINDS);
  // Signed out, the policies show no analysis: the statements do not ask for them.
  if (!signedIn) kinds.delete('ANALYSIS');
  return { tenantId, kinds };
}

builder.queryField('search', (t) =>
  t.field({
    type: SearchConnection,
    description:
      "Search over the active tenant's analyses and posts, best match first: full-text, vector or both (HYBRID). Signed out, published posts of every tenant. Row-level security decides what is found, as everywhere.",
    args: {
      input: t.arg({ type: SearchInput, required: true }),
      first: t.arg.int({ required: false, defaultValue: SEARCH_PAGE.defaultSize }),
      after: t.arg.string({ required: false }),
    },
    resolve: async (_root, { input, first, after }, ctx) => {
      const size = pageSize(first);
      const offset = offsetAfter(after);
      const mode: SearchMode = input.mode ?? 'HYBRID';
      if (input.text == null && input.vector == null) throw new DomainError('VALIDATION_FAILED', 'input: give text, vector or both');
      if (mode === 'KEYWORD' && input.text == null) throw new DomainError('VALIDATION_FAILED', 'input.text: KEYWORD search needs words');
      const vector = input.vector != null ? queryVector(input.vector) : null;
      const { tenantId, kinds } = await callerScope(ctx, input.kinds);
      // Posts belong to no project and have no analysis status or type: those filters search analyses only.
      if (input.projectId || input.status || input.type) kinds.delete('POST');
      if (kinds.size === 0 || size === 0) return { hits: [], hasNextPage: false };
      const scope: SearchScope = {
        tenantId,
        projectId: input.projectId?.id ?? null,
        status: input.status ?? null,
        type: input.type ?? null,
        createdAfter: input.createdAfter ?? null,
        createdBefore: input.createdBefore ?? null,
        excludeId: null,
      };
      const want = offset + size + 1;
      const lists: Ranked[][] = [];
      if (mode !== 'SEMANTIC' && input.text != null) {
        lists.push(await keywordRanking(statements(ctx), input.text, [...kinds], scope, want));
      }
      if (mode !== 'KEYWORD') {
        const embedding = vector ?? (input.text != null ? await embedQuery(ctx, input.text) : null);
        // A text the model knows no word of has no vector: HYBRID keeps its full-text ranking.
        if (embedding) lists.push((await vectorRanking(statements(ctx), embedding, [...kinds], scope, want)).ranked);
      }
      const ranked = (mode === 'HYBRID' ? reciprocalRankFusion(lists) : (lists[0] ?? [])).slice(offset, want);
      const hits = await withNodes(ctx, ranked.slice(0, size), offset);
      return { hits, hasNextPage: ranked.length > size };
    },
  }),
);

builder.queryField('similar', (t) =>
  t.field({
    type: SearchConnection,
    description:
      'The analyses and posts nearest to one (by embedding), closest first; empty while the row has no embedding yet. Only rows the caller may read, the row itself left out.',
    args: {
      id: t.arg.globalID({ for: [AnalysisRef, PostRef], required: true }),
      kinds: t.arg({ type: [SearchKindEnum], required: false }),
      first: t.arg.int({ required: false, defaultValue: SEARCH_PAGE.defaultSize }),
    },
    resolve: async (_root, { id, kinds: kindsAsked, first }, ctx) => {
      const size = pageSize(first);
      const table = id.typename === 'Post' ? 'public.posts' : 'public.analyses';
      // Read as the caller: a row they may not see is not found, and gives away no neighbours.
      const rows = await ctx.transaction.query<{ embedding: string | null }>(
        `select embedding::text as embedding from ${table} where id = $1::uuid`,
        [id.id],
      );
      if (!rows[0]) throw new DomainError('NOT_FOUND', `no ${id.typename} with that id`);
      const { tenantId, kinds } = await callerScope(ctx, kindsAsked);
      if (!rows[0].embedding || kinds.size === 0 || size === 0) return { hits: [], hasNextPage: false };
      const embedding = JSON.parse(rows[0].embedding) as number[];
      const scope: SearchScope = { tenantId, projectId: null, status: null, type: null, createdAfter: null, createdBefore: null, excludeId: id.id };
      const { ranked } = await vectorRanking(statements(ctx), embedding, [...kinds], scope, size);
      return { hits: await withNodes(ctx, ranked, 0), hasNextPage: false };
    },
  }),
);

/** The request's transaction, as the ranking statements take it. */
const statements = (ctx: GatewayContext): Statements => ({
  query: async <Row>(text: string, params?: readonly unknown[]) => ({ rows: await ctx.transaction.query<Row>(text, params ?? []) }),
});

async function embedQuery(ctx: GatewayContext, text: string): Promise<Float32Array | null> {
  if (!ctx.ai) throw new DomainError('SEARCH_UNAVAILABLE', 'vector search needs an AI provider, and this gateway has none: use mode KEYWORD');
  try {
    const [vector] = await ctx.ai.embed([text]);
    return vector ?? null;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new DomainError('SEARCH_UNAVAILABLE', `the query could not be embedded (${detail}); KEYWORD search still works`);
  }
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
