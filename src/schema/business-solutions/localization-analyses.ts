import { z } from 'zod';
import { textCost } from '../../limits/cost.ts';
import { builder } from '../builder.ts';
import { BUSINESS_SOLUTION_CREDIT_COST, requestAsCaller } from '../credits.ts';
import { ProjectRef } from '../projects.ts';
import {
  boundedText,
  httpUrl,
  jsonInput,
  longText,
  metadataObject,
  solutionList,
  solutionResultUpdate,
} from './shared.ts';

const productImages = z
  .array(httpUrl)
  .max(50, { error: (issue) => `expected at most 50 image URLs, received ${(issue.input as unknown[]).length}` });

export const LocalizationStatusEnum = builder.enumType('LocalizationStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED'] as const,
});

export const LocalizationAnalysisRef = builder.prismaNode('LocalizationAnalysis', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'GlobalFit: a product adapted for a target market.',
  fields: (t) => ({
    productName: t.exposeString('productName'),
    targetMarket: t.exposeString('targetMarket'),
    productImages: t.expose('productImages', { type: 'JSON', nullable: true, description: 'An array of image URLs.' }),
    productDescription: t.exposeString('productDescription', { nullable: true, extensions: { cost: textCost(10_000) } }),
    culturalAnalysis: t.expose('culturalAnalysis', { type: 'JSON', nullable: true }),
    visualAdaptation: t.expose('visualAdaptation', { type: 'JSON', nullable: true }),
    marketStrategy: t.expose('marketStrategy', { type: 'JSON', nullable: true }),
    complianceCheck: t.expose('complianceCheck', { type: 'JSON', nullable: true }),
    competitorAnalysis: t.expose('competitorAnalysis', { type: 'JSON', nullable: true }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    processingTimeMs: t.exposeInt('processingTimeMs', { nullable: true }),
    creditsCost: t.exposeInt('creditsCost', { description: 'What the request cost when it was made.' }),
    status: t.expose('status', { type: LocalizationStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user', { nullable: true, description: 'Null once the requester has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

solutionList({
  model: 'LocalizationAnalysis',
  field: 'localizationAnalyses',
  description: 'Localization analyses of the active tenant.',
  status: LocalizationStatusEnum,
  search: { columns: ['productName', 'targetMarket'], description: 'Matches the product name or target market.' },
});

builder.mutationField('requestLocalizationAnalysis', (t) =>
  t.prismaField({
    type: 'LocalizationAnalysis',
    description: `Spends ${BUSINESS_SOLUTION_CREDIT_COST.localization_analyses} credits and queues a PENDING localization analysis in the active tenant, requested by you, both or neither (MEMBER and up).`,
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RequestLocalizationAnalysisInput', {
          fields: (f) => ({
            productName: f.string({ validate: boundedText(300) }),
            targetMarket: f.string({ validate: boundedText(200), description: 'A market or region, e.g. "Japan".' }),
            productImages: f.stringList({
              required: false,
              validate: productImages,
              description: 'Up to 50 http(s) image URLs.',
            }),
            productDescription: f.string({ required: false, validate: longText(10_000) }),
            projectId: f.globalID({ for: ProjectRef, required: false }),
            metadata: f.field({ type: 'JSON', required: false, validate: metadataObject }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'localizationAnalysis' } },
    resolve: (query, _root, { input }, ctx) =>
      requestAsCaller(ctx, (tx, owner) =>
        tx.localizationAnalysis.create({
          ...query,
          data: {
            ...owner,
            projectId: input.projectId?.id,
            productName: input.productName,
            targetMarket: input.targetMarket,
            productImages: jsonInput(input.productImages),
            productDescription: input.productDescription ?? undefined,
            metadata: jsonInput(input.metadata) ?? {},
          },
        }),
      ),
  }),
);

solutionResultUpdate({
  model: 'LocalizationAnalysis',
  label: 'localization analysis',
  noun: 'localization analysis',
  ref: LocalizationAnalysisRef,
  status: LocalizationStatusEnum,
  results: ['culturalAnalysis', 'visualAdaptation', 'marketStrategy', 'complianceCheck', 'competitorAnalysis'],
});
