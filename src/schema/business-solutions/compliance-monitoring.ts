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

export const ComplianceStatusEnum = builder.enumType('ComplianceStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED', 'URGENT_ATTENTION'] as const,
});

export const ComplianceMonitoringRef = builder.prismaNode('ComplianceMonitoring', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  name: 'ComplianceMonitoring',
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'ComplianceGuard: the regulations a business must follow in a jurisdiction, and a plan to meet them.',
  fields: (t) => ({
    businessType: t.exposeString('businessType'),
    jurisdiction: t.exposeString('jurisdiction'),
    regulations: t.expose('regulations', { type: 'JSON', nullable: true }),
    riskAssessment: t.expose('riskAssessment', { type: 'JSON', nullable: true }),
    documentReviews: t.expose('documentReviews', { type: 'JSON', nullable: true }),
    actionPlan: t.expose('actionPlan', { type: 'JSON', nullable: true }),
    auditPreparation: t.expose('auditPreparation', { type: 'JSON', nullable: true }),
    trainingMaterials: t.expose('trainingMaterials', { type: 'JSON', nullable: true }),
    nextReviewDate: t.expose('nextReviewDate', { type: 'DateTime', nullable: true }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    processingTimeMs: t.exposeInt('processingTimeMs', { nullable: true }),
    creditsCost: t.exposeInt('creditsCost', { description: 'What the request cost when it was made.' }),
    status: t.expose('status', { type: ComplianceStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user', { nullable: true, description: 'Null once the requester has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

solutionList({
  model: 'ComplianceMonitoring',
  field: 'complianceMonitoring',
  description: 'Compliance monitoring of the active tenant.',
  status: ComplianceStatusEnum,
  search: { columns: ['businessType', 'jurisdiction'], description: 'Matches the business type or jurisdiction.' },
});

builder.mutationField('requestComplianceMonitoring', (t) =>
  t.prismaField({
    type: 'ComplianceMonitoring',
    description: `Spends ${BUSINESS_SOLUTION_CREDIT_COST.compliance_monitoring} credits and queues a PENDING compliance review in the active tenant, requested by you, both or neither (MEMBER and up).`,
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RequestComplianceMonitoringInput', {
          fields: (f) => ({
            businessType: f.string({ validate: boundedText(200), description: 'The business type or industry.' }),
            jurisdiction: f.string({ validate: boundedText(200) }),
            regulations: f.field({ type: 'JSON', required: false, description: 'Regulations to track, if already known.' }),
            projectId: f.globalID({ for: ProjectRef, required: false }),
            metadata: f.field({ type: 'JSON', required: false, validate: metadataObject }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'complianceMonitoring' } },
    resolve: (query, _root, { input }, ctx) =>
      requestAsCaller(ctx, (tx, owner) =>
        tx.complianceMonitoring.create({
          ...query,
          data: {
            ...owner,
            projectId: input.projectId?.id,
            businessType: input.businessType,
            jurisdiction: input.jurisdiction,
            regulations: jsonInput(input.regulations),
            metadata: jsonInput(input.metadata) ?? {},
          },
        }),
      ),
  }),
);

solutionResultUpdate({
  model: 'ComplianceMonitoring',
  label: 'compliance monitoring',
  noun: 'compliance review',
  ref: ComplianceMonitoringRef,
  status: ComplianceStatusEnum,
  results: ['riskAssessment', 'documentReviews', 'actionPlan', 'auditPreparation', 'trainingMaterials'],
  dates: ['nextReviewDate'],
});
