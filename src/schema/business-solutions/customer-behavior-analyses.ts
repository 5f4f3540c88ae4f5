import { builder } from '../builder.ts';
import { BUSINESS_SOLUTION_CREDIT_COST, requestAsCaller } from '../credits.ts';
import { ProjectRef } from '../projects.ts';
import {
  boundedText,
  jsonInput,
  metadataObject,
  solutionList,
  solutionResultUpdate,
} from './shared.ts';

export const BehaviorAnalysisStatusEnum = builder.enumType('BehaviorAnalysisStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'INSUFFICIENT_DATA'] as const,
});

export const CustomerBehaviorAnalysisRef = builder.prismaNode('CustomerBehaviorAnalysis', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'BehaviorPredict: predicted behaviour, sentiment and churn of a customer segment.',
  fields: (t) => ({
    customerSegment: t.exposeString('customerSegment', { nullable: true }),
    dataSource: t.expose('dataSource', { type: 'JSON', nullable: true, description: 'The sources read: CRM, email, social media.' }),
    behaviorPrediction: t.expose('behaviorPrediction', { type: 'JSON', nullable: true }),
    sentimentAnalysis: t.expose('sentimentAnalysis', { type: 'JSON', nullable: true }),
    journeyMapping: t.expose('journeyMapping', { type: 'JSON', nullable: true }),
    recommendations: t.expose('recommendations', { type: 'JSON', nullable: true }),
    conversionProbability: t.exposeFloat('conversionProbability', { nullable: true }),
    churnRisk: t.exposeFloat('churnRisk', { nullable: true }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    processingTimeMs: t.exposeInt('processingTimeMs', { nullable: true }),
    creditsCost: t.exposeInt('creditsCost', { description: 'What the request cost when it was made.' }),
    status: t.expose('status', { type: BehaviorAnalysisStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user', { nullable: true, description: 'Null once the requester has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

solutionList({
  model: 'CustomerBehaviorAnalysis',
  field: 'customerBehaviorAnalyses',
  description: 'Customer behaviour analyses of the active tenant.',
  status: BehaviorAnalysisStatusEnum,
  search: { columns: ['customerSegment'], description: 'Matches the customer segment.' },
});

builder.mutationField('requestCustomerBehaviorAnalysis', (t) =>
  t.prismaField({
    type: 'CustomerBehaviorAnalysis',
    description: `Spends ${BUSINESS_SOLUTION_CREDIT_COST.customer_behavior_analyses} credits and queues a PENDING customer behaviour analysis in the active tenant, requested by you, both or neither (MEMBER and up).`,
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RequestCustomerBehaviorAnalysisInput', {
          fields: (f) => ({
            customerSegment: f.string({ required: false, validate: boundedText(200) }),
            dataSource: f.field({ type: 'JSON', required: false, description: 'Which data to read: CRM, email, social media.' }),
            projectId: f.globalID({ for: ProjectRef, required: false }),
            metadata: f.field({ type: 'JSON', required: false, validate: metadataObject }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'customerBehaviorAnalysis' } },
    resolve: (query, _root, { input }, ctx) =>
      requestAsCaller(ctx, (tx, owner) =>
        tx.customerBehaviorAnalysis.create({
          ...query,
          data: {
            ...owner,
            projectId: input.projectId?.id,
            customerSegment: input.customerSegment ?? undefined,
            dataSource: jsonInput(input.dataSource),
            metadata: jsonInput(input.metadata) ?? {},
          },
        }),
      ),
  }),
);

solutionResultUpdate({
  model: 'CustomerBehaviorAnalysis',
  label: 'customer behavior analysis',
  noun: 'behaviour analysis',
  ref: CustomerBehaviorAnalysisRef,
  status: BehaviorAnalysisStatusEnum,
  results: ['behaviorPrediction', 'sentimentAnalysis', 'journeyMapping', 'recommendations'],
  scores: ['conversionProbability', 'churnRisk'],
});
