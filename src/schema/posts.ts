import { z } from 'zod';
import { textCost } from '../limits/cost.ts';
import { builder } from './builder.ts';
import { byColumn, tenantList } from './lists.ts';
import type { Prisma } from '../db/prisma.ts';
import { DomainError } from '../errors.ts';
import { contains, dateRange, DateRangeInput, searchText, PAGE } from './filters.ts';
import { requireChanges, requireTenantId, requireUserId, runMutation } from '../session/mutation.ts';

// No tenant relation: anonymous readers of published posts cannot read tenants.
export const PostRef = builder.prismaNode('Post', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    title: t.exposeString('title'),
    content: t.exposeString('content', { nullable: true, extensions: { cost: textCost(200_000) } }),
    excerpt: t.exposeString('excerpt', { nullable: true }),
    slug: t.exposeString('slug'),
    published: t.exposeBoolean('published'),
    featured: t.exposeBoolean('featured'),
    publishedAt: t.expose('publishedAt', { type: 'DateTime', nullable: true }),
    metadata: t.expose('metadata', { type: 'JSON', description: 'SEO fields (metaTitle, metaDescription, keywords) and tags.' }),
    readingTimeMinutes: t.exposeInt('readingTimeMinutes', { nullable: true }),
    views: t.exposeInt('views'),
    shares: t.exposeInt('shares'),
    // Looked up on its own: a joined author hidden by the users policies would fail the whole post query.
    author: t.prismaField({
      type: 'User',
      nullable: true,
      description: 'Null when you share no tenant with the author, and always for anonymous readers.',
      select: { authorId: true },
      resolve: (query, post, _args, ctx) =>
        ctx.claims.role === 'authenticated' ? ctx.prisma.user.findUnique({ ...query, where: { id: post.authorId } }) : null,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const PostOrderField = builder.enumType('PostOrderField', { values: ['CREATED_AT', 'UPDATED_AT', 'TITLE'] as const });
const ORDER_COLUMN = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt', TITLE: 'title' } as const;

const PostFilter = builder.inputType('PostFilter', {
  fields: (t) => ({
    published: t.boolean({ required: false }),
    featured: t.boolean({ required: false }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
    search: t.string({ required: false, validate: searchText, description: 'Matches title, excerpt or content.' }),
  }),
});

const PublishedPostFilter = builder.inputType('PublishedPostFilter', {
  fields: (t) => ({
    featured: t.boolean({ required: false }),
    search: t.string({ required: false, validate: searchText, description: 'Matches title, excerpt or content.' }),
  }),
});

function postWhere(filter: typeof PostFilter.$inferInput | null | undefined): Prisma.PostWhereInput {
  const search = filter?.search;
  return {
    published: filter?.published ?? undefined,
    featured: filter?.featured ?? undefined,
    createdAt: dateRange(filter?.createdAt),
    OR: search ? [{ title: contains(search) }, { excerpt: contains(search) }, { content: contains(search) }] : undefined,
  };
}

tenantList({
  field: 'posts',
  model: 'Post',
  description: 'Posts of the active tenant, drafts included (members only).',
  filter: PostFilter,
  // The policies also show every tenant's published posts, so the tenant is named here.
  where: async (filter, ctx) => ({ ...postWhere(filter), tenantId: await requireTenantId(ctx) }),
  order: { field: PostOrderField, defaultValue: 'CREATED_AT', by: byColumn(ORDER_COLUMN) },
});

builder.queryField('publishedPosts', (t) =>
  t.prismaConnection({
    type: 'Post',
    cursor: 'id',
    ...PAGE,
    description: 'Published posts of every tenant, newest first; anyone may read them, signed in or not.',
    args: { filter: t.arg({ type: PublishedPostFilter, required: false }) },
    resolve: (query, _root, { filter }, ctx) =>
      ctx.prisma.post.findMany({
        ...query,
        where: { ...postWhere(filter), published: true },
        orderBy: [{ publishedAt: 'desc' }, { id: 'asc' }],
      }),
    totalCount: (_connection, { filter }, ctx) => ctx.prisma.post.count({ where: { ...postWhere(filter), published: true } }),
  }),
);

builder.queryField('postBySlug', (t) =>
  t.prismaField({
    type: 'Post',
    nullable: true,
    description: 'A published post by its tenant\'s slug and its own; null for drafts and unknown slugs.',
    args: { tenantSlug: t.arg.string({ required: true }), slug: t.arg.string({ required: true }) },
    resolve: async (query, _root, { tenantSlug, slug }, ctx) => {
      // Tenants are unreadable to anonymous callers, so a security definer function resolves the slugs.
      const [row] = await ctx.prisma.$queryRaw<{ id: string | null }[]>`
        select public.published_post_id(${tenantSlug}, ${slug}) as id`;
      return row?.id ? ctx.prisma.post.findUnique({ ...query, where: { id: row.id } }) : null;
    },
  }),
);

const postTitle = z.string().trim().min(1).max(300);
const postSlug = z
  .string()
  .max(200, { error: (issue) => `expected at most 200 characters, got ${String(issue.input).length}` })
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, {
    error: (issue) => `expected lowercase letters and digits in dash-separated words (e.g. "my-first-post"), got ${JSON.stringify(issue.input)}`,
  });
const postContent = z.string().max(200_000);
const postExcerpt = z.string().max(1_000);
const readingTime = z.number().int().min(0).max(10_000);

/** The database's uniqueness error says only "conflict"; on posts that can only be the slug. */
async function withSlugConflict<T>(slug: string | null | undefined, run: Promise<T>): Promise<T> {
  try {
    return await run;
  } catch (error) {
    if (error instanceof DomainError && error.code === 'CONFLICT' && slug) {
      throw new DomainError('CONFLICT', `expected a slug no other post of this tenant has, got "${slug}", which is taken`);
    }
    throw error;
  }
}

builder.mutationField('createPost', (t) =>
  t.prismaField({
    type: 'Post',
    description: 'Creates a draft post in the active tenant with you as its author (MEMBER and up).',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreatePostInput', {
          fields: (f) => ({
            title: f.string({ validate: postTitle }),
            slug: f.string({ validate: postSlug }),
            content: f.string({ required: false, validate: postContent }),
            excerpt: f.string({ required: false, validate: postExcerpt }),
            featured: f.boolean({ required: false }),
            metadata: f.field({ type: 'JSON', required: false }),
            readingTimeMinutes: f.int({ required: false, validate: readingTime }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'post' } },
    resolve: async (query, _root, { input }, ctx) => {
      const authorId = requireUserId(ctx);
      const tenantId = await requireTenantId(ctx);
      const data = {
        tenantId,
        authorId,
        title: input.title,
        slug: input.slug,
        content: input.content ?? undefined,
        excerpt: input.excerpt ?? undefined,
        featured: input.featured ?? undefined,
        metadata: (input.metadata ?? {}) as never,
        readingTimeMinutes: input.readingTimeMinutes ?? undefined,
      };
      return withSlugConflict(input.slug, runMutation(ctx, (tx) => tx.post.create({ ...query, data })));
    },
  }),
);

builder.mutationField('updatePost', (t) =>
  t.prismaField({
    type: 'Post',
    description: 'Changes a post you wrote, or any post of the active tenant as ADMIN and up.',
    authScopes: { signedIn: true },
    args: {
      id: t.arg.globalID({ for: PostRef, required: true }),
      input: t.arg({
        required: true,
        type: builder.inputType('UpdatePostInput', {
          fields: (f) => ({
            title: f.string({ required: false, validate: postTitle }),
            slug: f.string({ required: false, validate: postSlug }),
            content: f.string({ required: false, validate: postContent }),
            excerpt: f.string({ required: false, validate: postExcerpt }),
            featured: f.boolean({ required: false }),
            metadata: f.field({ type: 'JSON', required: false }),
            readingTimeMinutes: f.int({ required: false, validate: readingTime }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'post' } },
    resolve: (query, _root, { id, input }, ctx) => {
      // An explicit null clears the optional texts; leaving a field out keeps it.
      const data = requireChanges({
        title: input.title ?? undefined,
        slug: input.slug ?? undefined,
        content: input.content,
        excerpt: input.excerpt,
        featured: input.featured ?? undefined,
        metadata: (input.metadata ?? undefined) as never,
        readingTimeMinutes: input.readingTimeMinutes,
      });
      return withSlugConflict(input.slug, runMutation(ctx, (tx) => tx.post.update({ ...query, where: { id: id.id }, data })));
    },
  }),
);

for (const [name, published] of [['publishPost', true], ['unpublishPost', false]] as const) {
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'Post',
      description: published
        ? 'Makes a post public; the database stamps publishedAt on first publication.'
        : 'Turns a post back into a draft; the database clears publishedAt.',
      authScopes: { signedIn: true },
      args: { id: t.arg.globalID({ for: PostRef, required: true }) },
      errors: { dataField: { name: 'post' } },
      resolve: (query, _root, { id }, ctx) =>
        runMutation(ctx, (tx) => tx.post.update({ ...query, where: { id: id.id }, data: { published } })),
    }),
  );
}

builder.mutationField('deletePost', (t) =>
  t.field({
    type: 'ID',
    description: 'Deletes a post you wrote, or any post of the active tenant as ADMIN and up. Returns the deleted id.',
    authScopes: { signedIn: true },
    args: { id: t.arg.globalID({ for: PostRef, required: true }) },
    errors: { dataField: { name: 'deletedPostId' } },
    resolve: async (_root, { id }, ctx) => {
      await runMutation(ctx, (tx) => tx.post.delete({ where: { id: id.id }, select: { id: true } }));
      return id.id;
    },
  }),
);
