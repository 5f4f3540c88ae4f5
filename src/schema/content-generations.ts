import { z } from 'zod';
import type { Prisma } from '../db/prisma.ts';
import { textCost } from '../limits/cost.ts';
import { builder } from './builder.ts';
import { plannedRelation } from './plan/registry.ts';
import { byColumn, tenantList } from './lists.ts';
import { GENERATION_CREDIT_COST, modelName, paidRequestText, pricedValues, requestAsCaller } from './credits.ts';
import { contains, dateRange, DateRangeInput, PAGE, searchText } from './filters.ts';
import { runMutation } from '../session/mutation.ts';
import { ProjectRef } from './projects.ts';

export const GenerationTypeEnum = builder.enumType('GenerationType', { values: pricedValues(GENERATION_CREDIT_COST) });
export const GenerationStatusEnum = builder.enumType('GenerationStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const,
});

export const ContentGenerationRef = builder.prismaNode('ContentGeneration', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    type: t.expose('type', { type: GenerationTypeEnum }),
    prompt: t.exposeString('prompt', { extensions: { cost: textCost(100_000) } }),
    output: t.exposeString('output', { nullable: true, extensions: { cost: textCost(1_000_000) } }),
    model: t.exposeString('model', { nullable: true }),
    tokensUsed: t.exposeInt('tokensUsed', { nullable: true }),
    creditsCost: t.exposeInt('creditsCost'),
    processingTimeMs: t.exposeInt('processingTimeMs', { nullable: true }),
    qualityScore: t.exposeFloat('qualityScore', { nullable: true }),
    status: t.expose('status', { type: GenerationStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user', { nullable: true, description: 'Null once the requester has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(ProjectRef, 'contentGenerations', (t) =>
  t.relatedConnection(
    'contentGenerations',
    plannedRelation('Project', 'contentGenerations', {
      cursor: 'id',
      totalCount: true,
      ...PAGE,
      description: 'Content generations linked to this project, newest first.',
      query: { orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] },
    }),
  ),
);

const ContentGenerationFilter = builder.inputType('ContentGenerationFilter', {
  fields: (t) => ({
    type: t.field({ type: [GenerationTypeEnum], required: false }),
    status: t.field({ type: [GenerationStatusEnum], required: false }),
    projectId: t.globalID({ for: ProjectRef, required: false }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
    search: t.string({ required: false, validate: searchText, description: 'Matches the prompt.' }),
  }),
});

function generationWhere(filter: typeof ContentGenerationFilter.$inferInput | null | undefined): Prisma.ContentGenerationWhereInput {
  return {
    type: filter?.type ? { in: filter.type } : undefined,
    status: filter?.status ? { in: filter.status } : undefined,
    projectId: filter?.projectId?.id,
    createdAt: dateRange(filter?.createdAt),
    prompt: filter?.search ? contains(filter.search) : undefined,
  };
}

const ContentGenerationOrderField = builder.enumType('ContentGenerationOrderField', { values: ['CREATED_AT', 'UPDATED_AT'] as const });

tenantList({
  field: 'contentGenerations',
  model: 'ContentGeneration',
  description: 'Content generations of the active tenant, newest first unless ordered otherwise.',
  signedIn: true,
  filter: ContentGenerationFilter,
  where: generationWhere,
  order: {
    field: ContentGenerationOrderField,
    defaultValue: 'CREATED_AT',
    by: byColumn({ CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt' }),
  },
});

builder.mutationField('requestContentGeneration', (t) =>
  t.prismaField({
    type: 'ContentGeneration',
    description: 'Spends the type\'s credits and queues a PENDING generation, both or neither (MEMBER and up).',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RequestContentGenerationInput', {
          fields: (f) => ({
            type: f.field({ type: GenerationTypeEnum }),
            prompt: f.string({ validate: paidRequestText, description: 'What to generate, 1 to 100000 characters, kept as sent.' }),
            projectId: f.globalID({ for: ProjectRef, required: false }),
            model: f.string({ required: false, validate: modelName }),
            metadata: f.field({ type: 'JSON', required: false }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'contentGeneration' } },
    resolve: (query, _root, { input }, ctx) =>
      requestAsCaller(ctx, (tx, owner) =>
        tx.contentGeneration.create({
          ...query,
          data: {
            ...owner,
            projectId: input.projectId?.id,
            type: input.type,
            prompt: input.prompt,
            model: input.model ?? undefined,
            metadata: (input.metadata ?? {}) as never,
          },
        }),
      ),
  }),
);

builder.mutationField('completeContentGeneration', (t) =>
  t.prismaField({
    type: 'ContentGeneration',
    description:
      'Records the outcome of a generation (service_role: the worker). The database decides which status moves are allowed (INVALID_TRANSITION otherwise).',
    authScopes: { serviceRole: true },
    args: {
      id: t.arg.globalID({ for: ContentGenerationRef, required: true }),
      input: t.arg({
        required: true,
        type: builder.inputType('CompleteContentGenerationInput', {
          fields: (f) => ({
            status: f.field({
              type: GenerationStatusEnum,
              validate: z.enum(['COMPLETED', 'FAILED'], { error: (issue) => `expected COMPLETED or FAILED, got ${String(issue.input)}` }),
            }),
            output: f.string({ required: false, validate: z.string().max(1_000_000) }),
            tokensUsed: f.int({ required: false, validate: z.number().int().min(0) }),
            qualityScore: f.float({ required: false, validate: z.number().min(0).max(1) }),
            processingTimeMs: f.int({ required: false, validate: z.number().int().min(0) }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'contentGeneration' } },
    resolve: (query, _root, { id, input }, ctx) =>
      runMutation(ctx, (tx) =>
        tx.contentGeneration.update({
          ...query,
          where: { id: id.id },
          data: {
            status: input.status,
            output: input.output ?? undefined,
            tokensUsed: input.tokensUsed ?? undefined,
            qualityScore: input.qualityScore ?? undefined,
            processingTimeMs: input.processingTimeMs ?? undefined,
          },
        }),
      ),
  }),
);
