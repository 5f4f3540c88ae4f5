import { z } from 'zod';
import type { Prisma } from '../db/prisma.ts';
import { textCost } from '../limits/cost.ts';
import { builder } from './builder.ts';
import { plannedRelation } from './plan/registry.ts';
import { tenantList } from './lists.ts';
import { ANALYSIS_CREDIT_COST, modelName, paidRequestText, pricedValues, requestAsCaller } from './credits.ts';
import { contains, dateRange, DateRangeInput, searchText, PAGE } from './filters.ts';
import { runMutation } from '../session/mutation.ts';
import { ProjectRef } from './projects.ts';

export const AnalysisTypeEnum = builder.enumType('AnalysisType', { values: pricedValues(ANALYSIS_CREDIT_COST) });
export const AnalysisStatusEnum = builder.enumType('AnalysisStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED'] as const,
});

export const AnalysisRef = builder.prismaNode('Analysis', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    type: t.expose('type', { type: AnalysisTypeEnum }),
    // The cost limit counts large text by the size it may have (src/limits/cost.ts).
    input: t.exposeString('input', { extensions: { cost: textCost(100_000) } }),
    result: t.expose('result', { type: 'JSON', nullable: true }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    status: t.expose('status', { type: AnalysisStatusEnum }),
    model: t.exposeString('model', { nullable: true }),
    processingTimeMs: t.exposeInt('processingTimeMs', { nullable: true }),
    creditsCost: t.exposeInt('creditsCost'),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user', { nullable: true, description: 'Null once the requester has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(ProjectRef, 'analyses', (t) =>
  t.relatedConnection(
    'analyses',
    plannedRelation('Project', 'analyses', {
      cursor: 'id',
      totalCount: true,
      ...PAGE,
      description: 'Analyses linked to this project, newest first.',
      query: { orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] },
    }),
  ),
);

const AnalysisOrderField = builder.enumType('AnalysisOrderField', { values: ['CREATED_AT', 'UPDATED_AT', 'CONFIDENCE'] as const });
const ORDER_COLUMN = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt', CONFIDENCE: 'confidence' } as const;

const AnalysisFilter = builder.inputType('AnalysisFilter', {
  fields: (t) => ({
    status: t.field({ type: [AnalysisStatusEnum], required: false }),
    type: t.field({ type: [AnalysisTypeEnum], required: false }),
    projectId: t.globalID({ for: ProjectRef, required: false }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
    search: t.string({ required: false, validate: searchText, description: 'Matches the input text.' }),
  }),
});

tenantList({
  field: 'analyses',
  model: 'Analysis',
  description: 'Analyses of the active tenant.',
  signedIn: true,
  filter: AnalysisFilter,
  where: analysisWhere,
  order: { field: AnalysisOrderField, defaultValue: 'CREATED_AT', by: analysisOrder },
});

function analysisOrder(field: keyof typeof ORDER_COLUMN, sort: 'asc' | 'desc'): Prisma.AnalysisOrderByWithRelationInput {
  // Unscored analyses go last either way: "most confident first" should not open with nulls.
  return field === 'CONFIDENCE' ? { confidence: { sort, nulls: 'last' } } : { [ORDER_COLUMN[field]]: sort };
}

function analysisWhere(filter: typeof AnalysisFilter.$inferInput | null | undefined): Prisma.AnalysisWhereInput {
  return {
    status: filter?.status ? { in: filter.status } : undefined,
    type: filter?.type ? { in: filter.type } : undefined,
    projectId: filter?.projectId?.id,
    createdAt: dateRange(filter?.createdAt),
    input: filter?.search ? contains(filter.search) : undefined,
  };
}


builder.mutationField('requestAnalysis', (t) =>
  t.prismaField({
    type: 'Analysis',
    description: 'Spends the type\'s credits and queues a PENDING analysis, both or neither (MEMBER and up).',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RequestAnalysisInput', {
          fields: (f) => ({
            type: f.field({ type: AnalysisTypeEnum }),
            input: f.string({ validate: paidRequestText, description: 'The text to analyse, 1 to 100000 characters, kept as sent.' }),
            projectId: f.globalID({ for: ProjectRef, required: false }),
            model: f.string({ required: false, validate: modelName }),
            metadata: f.field({ type: 'JSON', required: false }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'analysis' } },
    resolve: (query, _root, { input }, ctx) =>
      requestAsCaller(ctx, (tx, owner) =>
        tx.analysis.create({
          ...query,
          data: {
            ...owner,
            projectId: input.projectId?.id,
            type: input.type,
            input: input.input,
            model: input.model ?? undefined,
            metadata: (input.metadata ?? {}) as never,
          },
        }),
      ),
  }),
);

builder.mutationField('updateAnalysisStatus', (t) =>
  t.prismaField({
    type: 'Analysis',
    description:
      'Moves an analysis PENDING -> PROCESSING -> COMPLETED | FAILED and records its result (service_role: the worker).',
    authScopes: { serviceRole: true },
    args: {
      id: t.arg.globalID({ for: AnalysisRef, required: true }),
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateAnalysisStatusInput', {
          fields: (f) => ({
            status: f.field({ type: AnalysisStatusEnum }),
            result: f.field({ type: 'JSON', required: false }),
            confidence: f.float({ required: false, validate: z.number().min(0).max(1) }),
            model: f.string({ required: false, validate: modelName }),
            processingTimeMs: f.int({ required: false, validate: z.number().int().min(0) }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'analysis' } },
    resolve: (query, _root, { id, input }, ctx) =>
      // The database's guard_status_transition trigger refuses any other move (INVALID_TRANSITION).
      runMutation(ctx, (tx) =>
        tx.analysis.update({
          ...query,
          where: { id: id.id },
          data: {
            status: input.status,
            result: (input.result ?? undefined) as never,
            confidence: input.confidence ?? undefined,
            model: input.model ?? undefined,
            processingTimeMs: input.processingTimeMs ?? undefined,
          },
        }),
      ),
  }),
);
