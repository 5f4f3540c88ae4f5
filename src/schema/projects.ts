import { z } from 'zod';
import { textCost } from '../limits/cost.ts';
import { builder } from './builder.ts';
import { byColumn, tenantList } from './lists.ts';
import type { Prisma } from '../db/prisma.ts';
import { contains, dateRange, DateRangeInput, searchText } from './filters.ts';
import { requireChanges, requireTenantId, requireUserId, runMutation } from '../session/mutation.ts';

export const ProjectStatusEnum = builder.enumType('ProjectStatus', {
  values: ['ACTIVE', 'COMPLETED', 'ARCHIVED', 'SUSPENDED'] as const,
});

export const ProjectRef = builder.prismaNode('Project', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true, extensions: { cost: textCost(10_000) } }),
    status: t.expose('status', { type: ProjectStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON', description: 'budget, teamSize, securityLevel, compliance, timeline.' }),
    owner: t.relation('user', { nullable: true, description: 'Null once its creator has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const ProjectOrderField = builder.enumType('ProjectOrderField', { values: ['CREATED_AT', 'UPDATED_AT', 'NAME'] as const });
const ORDER_COLUMN = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt', NAME: 'name' } as const;

const ProjectFilter = builder.inputType('ProjectFilter', {
  fields: (t) => ({
    status: t.field({ type: [ProjectStatusEnum], required: false }),
    ownerId: t.globalID({ required: false }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
    search: t.string({ required: false, validate: searchText, description: 'Matches name or description.' }),
  }),
});

tenantList({
  field: 'projects',
  model: 'Project',
  description: 'Projects of the active tenant.',
  signedIn: true,
  filter: ProjectFilter,
  where: projectWhere,
  order: { field: ProjectOrderField, defaultValue: 'CREATED_AT', by: byColumn(ORDER_COLUMN) },
});

function projectWhere(filter: typeof ProjectFilter.$inferInput | null | undefined): Prisma.ProjectWhereInput {
  const search = filter?.search;
  return {
    status: filter?.status ? { in: filter.status } : undefined,
    userId: filter?.ownerId?.id,
    createdAt: dateRange(filter?.createdAt),
    OR: search ? [{ name: contains(search) }, { description: contains(search) }] : undefined,
  };
}

const projectName = z.string().trim().min(1).max(200);
const projectDescription = z.string().max(10_000);

builder.mutationField('createProject', (t) =>
  t.prismaField({
    type: 'Project',
    description: 'Creates a project in the active tenant, owned by you (MEMBER and up).',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('CreateProjectInput', {
          fields: (f) => ({
            name: f.string({ validate: projectName }),
            description: f.string({ required: false, validate: projectDescription }),
            metadata: f.field({ type: 'JSON', required: false }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'project' } },
    resolve: async (query, _root, { input }, ctx) => {
      const userId = requireUserId(ctx);
      const tenantId = await requireTenantId(ctx);
      return runMutation(ctx, (tx) =>
        tx.project.create({
          ...query,
          data: {
            tenantId,
            userId,
            name: input.name,
            description: input.description ?? undefined,
            metadata: (input.metadata ?? {}) as never,
          },
        }),
      );
    },
  }),
);

builder.mutationField('updateProject', (t) =>
  t.prismaField({
    type: 'Project',
    description: 'Changes a project you created, or any project as ADMIN and up.',
    args: {
      id: t.arg.globalID({ for: ProjectRef, required: true }),
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateProjectInput', {
          fields: (f) => ({
            name: f.string({ required: false, validate: projectName }),
            description: f.string({ required: false, validate: projectDescription }),
            status: f.field({ type: ProjectStatusEnum, required: false }),
            metadata: f.field({ type: 'JSON', required: false }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'project' } },
    resolve: (query, _root, { id, input }, ctx) => {
      const data = requireChanges({
        name: input.name ?? undefined,
        description: input.description,
        status: input.status ?? undefined,
        metadata: (input.metadata ?? undefined) as never,
      });
      return runMutation(ctx, (tx) => tx.project.update({ ...query, where: { id: id.id }, data }));
    },
  }),
);

builder.mutationField('archiveProject', (t) =>
  t.prismaField({
    type: 'Project',
    description: 'Sets a project\'s status to ARCHIVED.',
    args: { id: t.arg.globalID({ for: ProjectRef, required: true }) },
    errors: { dataField: { name: 'project' } },
    resolve: (query, _root, { id }, ctx) =>
      runMutation(ctx, (tx) => tx.project.update({ ...query, where: { id: id.id }, data: { status: 'ARCHIVED' } })),
  }),
);

builder.mutationField('deleteProject', (t) =>
  t.field({
    type: 'ID',
    description: 'Deletes a project; its analyses and uploads stay, unlinked. Returns the deleted id.',
    args: { id: t.arg.globalID({ for: ProjectRef, required: true }) },
    errors: { dataField: { name: 'deletedProjectId' } },
    resolve: async (_root, { id }, ctx) => {
      await runMutation(ctx, (tx) => tx.project.delete({ where: { id: id.id }, select: { id: true } }));
      return id.id;
    },
  }),
);
