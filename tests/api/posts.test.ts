import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, type GraphQLResponse } from '../support/gateway.ts';
import { createWorld, insertRow, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

type Result = { __typename?: string; code?: string; message?: string; [key: string]: unknown };
type Edges = { totalCount: number; edges: { node: { title: string; author: { id: string } | null } }[] };

const seedPost = (tenantId: string, authorId: string, title: string, extra: Record<string, unknown> = {}) =>
  db.owner.transaction((tx) =>
    insertRow(tx, 'posts', { tenant_id: tenantId, author_id: authorId, title, slug: title.toLowerCase().replace(/\W+/g, '-'), ...extra }),
  );
const postCount = async () => (await db.owner.query<{ n: number }>('select count(*)::int as n from public.posts')).rows[0]!.n;
const titles = (connection: Edges | undefined) => connection!.edges.map((e) => e.node.title);

/** A query refused before it reads any posts: the error's code, and no statement on the table. */
async function expectRefused(run: () => Promise<GraphQLResponse>, code: string) {
  db.statements.length = 0;
  const { body } = await run();
  expect(body.data).toBeNull();
  expect(body.errors?.map((error) => error.extensions?.code)).toEqual([code]);
  expect(db.statements.filter((sql) => sql.includes('"posts"'))).toEqual([]);
}

const POSTS = `query ($filter: PostFilter) {
  posts(filter: $filter, orderBy: TITLE, direction: ASC) { totalCount edges { node { title author { id } } } }
}`;
const PUBLISHED = `query ($filter: PublishedPostFilter) {
  publishedPosts(filter: $filter) { totalCount edges { node { title author { id } } } }
}`;
const BY_SLUG = 'query ($t: String!, $s: String!) { postBySlug(tenantSlug: $t, slug: $s) { title published publishedAt } }';
const CREATE = `mutation ($input: CreatePostInput!) {
  createPost(input: $input) {
    __typename
    ... on MutationCreatePostSuccess { post { id title slug published publishedAt featured author { id } } }
    ... on MutationError { code message }
  }
}`;
const UPDATE = `mutation ($id: ID!, $input: UpdatePostInput!) {
  updatePost(id: $id, input: $input) { ... on MutationUpdatePostSuccess { post { title slug content } } ... on MutationError { code message } }
}`;
const PUBLISH = `mutation ($id: ID!) {
  publishPost(id: $id) { ... on MutationPublishPostSuccess { post { published publishedAt } } ... on MutationError { code } }
}`;
const UNPUBLISH = `mutation ($id: ID!) {
  unpublishPost(id: $id) { ... on MutationUnpublishPostSuccess { post { published publishedAt } } ... on MutationError { code } }
}`;
const DELETE = 'mutation ($id: ID!) { deletePost(id: $id) { ... on MutationDeletePostSuccess { deletedPostId } ... on MutationError { code } } }';

describe('post queries', () => {
  let aDraft: string;
  let aPublished: string;
  beforeAll(async () => {
    aDraft = await seedPost(world.a.id, world.a.member.id, 'A draft', { content: 'about needles' });
    aPublished = await seedPost(world.a.id, world.a.admin.id, 'A published', {
      published: true,
      featured: true,
      excerpt: 'Needle in the excerpt',
      published_at: '2025-03-01T00:00:00Z',
    });
    await seedPost(world.b.id, world.b.member.id, 'B published', { published: true, published_at: '2025-04-01T00:00:00Z' });
    await seedPost(world.b.id, world.b.member.id, 'B draft');
  });

  it('posts: the active tenant’s posts, drafts included, with filters and totalCount', async () => {
    const all = await api.as<{ posts: Edges }>(world.a.viewer, world.a.id, POSTS);
    expect(titles(all.body.data?.posts)).toEqual(['A draft', 'A published']);
    expect(all.body.data!.posts.totalCount).toBe(2);
    const search = await api.as<{ posts: Edges }>(world.a.viewer, world.a.id, POSTS, { filter: { search: 'NEEDLE' } });
    expect(titles(search.body.data?.posts)).toEqual(['A draft', 'A published']);
    const drafts = await api.as<{ posts: Edges }>(world.a.viewer, world.a.id, POSTS, { filter: { published: false, search: 'needle' } });
    expect(titles(drafts.body.data?.posts)).toEqual(['A draft']);
    expect(drafts.body.data!.posts.totalCount).toBe(1);
    const featured = await api.as<{ posts: Edges }>(world.a.viewer, world.a.id, POSTS, { filter: { featured: true } });
    expect(titles(featured.body.data?.posts)).toEqual(['A published']);
    const future = await api.as<{ posts: Edges }>(world.a.viewer, world.a.id, POSTS, { filter: { createdAt: { from: '2999-01-01T00:00:00Z' } } });
    expect(future.body.data!.posts).toEqual({ totalCount: 0, edges: [] });
    const other = await api.as<{ posts: Edges }>(world.b.owner, world.b.id, POSTS);
    expect(titles(other.body.data?.posts)).toEqual(['B draft', 'B published']);
  });

  it('posts: refused to anonymous callers and to tokens naming a tenant the user does not belong to', async () => {
    await expectRefused(() => api.graphql(POSTS), 'UNAUTHENTICATED');
    await expectRefused(() => api.as(world.b.owner, world.a.id, POSTS), 'FORBIDDEN');
  });

  it('publishedPosts: everyone’s published posts, newest first; authors only to those who share a tenant', async () => {
    const anon = await api.graphql<{ publishedPosts: Edges }>(PUBLISHED);
    expect(titles(anon.body.data?.publishedPosts)).toEqual(['B published', 'A published']);
    expect(anon.body.data!.publishedPosts.totalCount).toBe(2);
    expect(anon.body.data!.publishedPosts.edges.map((e) => e.node.author)).toEqual([null, null]);
    const member = await api.as<{ publishedPosts: Edges }>(world.a.member, world.a.id, PUBLISHED);
    expect(member.body.data!.publishedPosts.edges.map((e) => e.node.author)).toEqual([null, { id: encodeGlobalID('User', world.a.admin.id) }]);
    const featured = await api.graphql<{ publishedPosts: Edges }>(PUBLISHED, { variables: { filter: { featured: true, search: 'needle' } } });
    expect(titles(featured.body.data?.publishedPosts)).toEqual(['A published']);
    expect(featured.body.data!.publishedPosts.totalCount).toBe(1);
  });

  it('postBySlug: published posts to anyone; drafts and unknown slugs are null, even for members', async () => {
    const anon = await api.graphql<{ postBySlug: unknown }>(BY_SLUG, { variables: { t: world.a.slug, s: 'a-published' } });
    expect(anon.body).toEqual({ data: { postBySlug: { title: 'A published', published: true, publishedAt: '2025-03-01T00:00:00.000Z' } } });
    const cases: [WorldUser | undefined, string, string][] = [
      [undefined, world.a.slug, 'a-draft'],
      [world.a.owner, world.a.slug, 'a-draft'],
      [world.a.member, world.a.slug, 'a-draft'],
      [undefined, world.b.slug, 'a-published'],
      [undefined, 'no-such-tenant', 'a-published'],
    ];
    for (const [user, t, s] of cases) {
      const response = user ? await api.as(user, world.a.id, BY_SLUG, { t, s }) : await api.graphql(BY_SLUG, { variables: { t, s } });
      expect(response.body).toEqual({ data: { postBySlug: null } });
    }
  });

  it('node(id): a draft is null outside its tenant; a published post is readable by anyone', async () => {
    const query = 'query ($id: ID!) { node(id: $id) { id ... on Post { title } } }';
    const draft = { id: encodeGlobalID('Post', aDraft) };
    expect((await api.graphql(query, { variables: draft })).body).toEqual({ data: { node: null } });
    expect((await api.as(world.b.owner, world.b.id, query, draft)).body).toEqual({ data: { node: null } });
    expect((await api.as(world.b.owner, world.a.id, query, draft)).body).toEqual({ data: { node: null } });
    expect((await api.as(world.a.viewer, world.a.id, query, draft)).body).toEqual({ data: { node: { ...draft, title: 'A draft' } } });
    const published = { id: encodeGlobalID('Post', aPublished) };
    expect((await api.graphql(query, { variables: published })).body).toEqual({ data: { node: { ...published, title: 'A published' } } });
  });
});

describe('post mutations', () => {
  it('createPost creates a draft by the caller; the same slug is fine in another tenant', async () => {
    const input = { title: 'Hello world', slug: 'hello-world', content: 'Body', featured: true, readingTimeMinutes: 3 };
    const created = await api.as<{ createPost: Result }>(world.a.member, world.a.id, CREATE, { input });
    expect(created.body.data!.createPost).toMatchObject({
      __typename: 'MutationCreatePostSuccess',
      post: { title: 'Hello world', slug: 'hello-world', published: false, publishedAt: null, featured: true, author: { id: encodeGlobalID('User', world.a.member.id) } },
    });
    const elsewhere = await api.as<{ createPost: Result }>(world.b.member, world.b.id, CREATE, { input });
    expect(elsewhere.body.data!.createPost.__typename).toBe('MutationCreatePostSuccess');
  });

  it('createPost refuses VIEWER, anonymous, forged tenants, bad slugs and taken slugs, writing nothing', async () => {
    await seedPost(world.a.id, world.a.member.id, 'Taken');
    const before = await postCount();
    const input = { title: 'No', slug: 'no' };
    const viewer = await api.as<{ createPost: Result }>(world.a.viewer, world.a.id, CREATE, { input });
    expect(viewer.body.data!.createPost).toMatchObject({ code: 'FORBIDDEN' });
    const anon = await api.graphql<{ createPost: Result }>(CREATE, { variables: { input } });
    expect(anon.body.data!.createPost).toMatchObject({ code: 'UNAUTHENTICATED' });
    const forged = await api.as<{ createPost: Result }>(world.b.owner, world.a.id, CREATE, { input });
    expect(forged.body.data!.createPost).toMatchObject({ code: 'FORBIDDEN' });
    const badSlug = await api.as<{ createPost: Result }>(world.a.member, world.a.id, CREATE, { input: { title: 'Bad', slug: 'Bad Slug' } });
    expect(badSlug.body.data!.createPost).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('got "Bad Slug"') });
    const long = await api.as<{ createPost: Result }>(world.a.member, world.a.id, CREATE, { input: { title: 'Long', slug: 'a'.repeat(201) } });
    expect(long.body.data!.createPost).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('slug') });
    const taken = await api.as<{ createPost: Result }>(world.a.admin, world.a.id, CREATE, { input: { title: 'Again', slug: 'taken' } });
    expect(taken.body.data!.createPost).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('"taken"') });
    expect(await postCount()).toBe(before);
  });

  it('updatePost: the author and ADMIN change it; other members, viewers and other tenants get NOT_FOUND', async () => {
    const raw = await seedPost(world.a.id, world.a.member.id, 'Editable', { published: true });
    await seedPost(world.a.id, world.a.member.id, 'Occupied');
    const id = encodeGlobalID('Post', raw);
    const run = (user: WorldUser, tenantId: string, input: Record<string, unknown>) =>
      api.as<{ updatePost: Result }>(user, tenantId, UPDATE, { id, input });
    expect((await run(world.a.member, world.a.id, { title: 'By author', content: null })).body.data!.updatePost).toEqual({
      post: { title: 'By author', slug: 'editable', content: null },
    });
    expect((await run(world.a.admin, world.a.id, { slug: 'by-admin' })).body.data!.updatePost).toEqual({
      post: { title: 'By author', slug: 'by-admin', content: null },
    });
    expect((await run(world.a.admin, world.a.id, { slug: 'occupied' })).body.data!.updatePost).toMatchObject({ code: 'CONFLICT' });
    const outsiderMembership = await db.owner.transaction((tx) =>
      insertRow(tx, 'tenant_users', { tenant_id: world.a.id, user_id: world.outsider.id, role: 'MEMBER' }),
    );
    expect((await run(world.outsider, world.a.id, { title: 'Nope' })).body.data!.updatePost).toMatchObject({ code: 'NOT_FOUND' });
    await db.owner.query('delete from public.tenant_users where id = $1', [outsiderMembership]);
    expect((await run(world.a.viewer, world.a.id, { title: 'Nope' })).body.data!.updatePost).toMatchObject({ code: 'NOT_FOUND' });
    // Setting nothing is refused outright: Prisma would only read the row and report success to a reader.
    expect((await run(world.a.viewer, world.a.id, {})).body.data!.updatePost).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('at least one field'),
    });
    // Published, so other tenants can read it, but not change it.
    expect((await run(world.b.owner, world.b.id, { title: 'Nope' })).body.data!.updatePost).toMatchObject({ code: 'NOT_FOUND' });
    expect((await run(world.b.owner, world.a.id, { title: 'Nope' })).body.data!.updatePost).toMatchObject({ code: 'NOT_FOUND' });
    const anon = await api.graphql<{ updatePost: Result }>(UPDATE, { variables: { id, input: { title: 'Nope' } } });
    expect(anon.body.data!.updatePost).toMatchObject({ code: 'UNAUTHENTICATED' });
    const { rows } = await db.owner.query('select title, slug from public.posts where id = $1', [raw]);
    expect(rows).toEqual([{ title: 'By author', slug: 'by-admin' }]);
  });

  it('publishPost stamps publishedAt and makes it public; unpublishPost clears it', async () => {
    const raw = await seedPost(world.b.id, world.b.member.id, 'Soon public');
    const id = encodeGlobalID('Post', raw);
    const bySlug = async () => (await api.graphql<{ postBySlug: unknown }>(BY_SLUG, { variables: { t: world.b.slug, s: 'soon-public' } })).body;
    expect(await bySlug()).toEqual({ data: { postBySlug: null } });
    expect((await api.as(world.b.viewer, world.b.id, PUBLISH, { id })).body.data).toEqual({ publishPost: { code: 'NOT_FOUND' } });
    expect((await api.as(world.a.owner, world.a.id, PUBLISH, { id })).body.data).toEqual({ publishPost: { code: 'NOT_FOUND' } });
    expect((await api.graphql(PUBLISH, { variables: { id } })).body.data).toEqual({ publishPost: { code: 'UNAUTHENTICATED' } });
    const published = await api.as<{ publishPost: { post: { published: boolean; publishedAt: string } } }>(world.b.member, world.b.id, PUBLISH, { id });
    expect(published.body.data!.publishPost.post.published).toBe(true);
    expect(Date.parse(published.body.data!.publishPost.post.publishedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(await bySlug()).toMatchObject({ data: { postBySlug: { title: 'Soon public', published: true } } });
    expect((await api.as(world.b.viewer, world.b.id, UNPUBLISH, { id })).body.data).toEqual({ unpublishPost: { code: 'NOT_FOUND' } });
    const unpublished = await api.as(world.b.admin, world.b.id, UNPUBLISH, { id });
    expect(unpublished.body.data).toEqual({ unpublishPost: { post: { published: false, publishedAt: null } } });
    expect(await bySlug()).toEqual({ data: { postBySlug: null } });
  });

  it('deletePost returns the id; others cannot delete', async () => {
    const raw = await seedPost(world.a.id, world.a.member.id, 'Doomed', { published: true });
    const id = encodeGlobalID('Post', raw);
    expect((await api.as(world.b.owner, world.b.id, DELETE, { id })).body.data).toEqual({ deletePost: { code: 'NOT_FOUND' } });
    expect((await api.as(world.a.viewer, world.a.id, DELETE, { id })).body.data).toEqual({ deletePost: { code: 'NOT_FOUND' } });
    expect((await api.graphql(DELETE, { variables: { id } })).body.data).toEqual({ deletePost: { code: 'UNAUTHENTICATED' } });
    expect((await api.as(world.a.member, world.a.id, DELETE, { id })).body.data).toEqual({ deletePost: { deletedPostId: raw } });
    expect((await db.owner.query('select id from public.posts where id = $1', [raw])).rows).toEqual([]);
  });

  it('a failed mutation leaves nothing behind while the others of the operation stand', async () => {
    const before = await postCount();
    const operation = `mutation {
      kept: createPost(input: { title: "Kept", slug: "kept-once" }) { __typename }
      failed: createPost(input: { title: "Twice", slug: "kept-once" }) { __typename ... on MutationError { code } }
    }`;
    const response = await api.as<Record<string, Result>>(world.b.member, world.b.id, operation);
    expect(response.body.data).toEqual({
      kept: { __typename: 'MutationCreatePostSuccess' },
      failed: { __typename: 'MutationError', code: 'CONFLICT' },
    });
    expect(await postCount()).toBe(before + 1);
  });
});
