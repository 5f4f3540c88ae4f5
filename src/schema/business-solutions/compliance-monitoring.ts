import { builder } from '../builder.ts';
import { ProjectRef } from '../projects.ts';
import {
  boundedText,
  jsonInput,
  jsonUpdate,
  metadataObject,
  nonNegativeInt,
  requestAsCaller,
  solutionList,
  unitInterval,
  updateResultAsCaller,
} from './shared.ts';

export const ComplianceStatusEnum = builder.enumType('ComplianceStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED', 'URGENT_ATTENTION'] as const,
});

export const ComplianceMonitoringRef = builder.prismaNode('ComplianceMonitoring', {
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
    status: t.expose('status', { type: ComplianceStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user'),
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
    description: 'Queues a PENDING compliance review in the active tenant, requested by you (MEMBER and up).',
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

builder.mutationField('updateComplianceMonitoringResult', (t) =>
  t.prismaField({
    type: 'ComplianceMonitoring',
    description: 'Records progress or results of a compliance review you requested, or any as ADMIN and up. Null clears a result.',
    args: {
      id: t.arg.globalID({ for: ComplianceMonitoringRef, required: true }),
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateComplianceMonitoringResultInput', {
          fields: (f) => ({
            status: f.field({ type: ComplianceStatusEnum, required: false }),
            riskAssessment: f.field({ type: 'JSON', required: false }),
            documentReviews: f.field({ type: 'JSON', required: false }),
            actionPlan: f.field({ type: 'JSON', required: false }),
            auditPreparation: f.field({ type: 'JSON', required: false }),
            trainingMaterials: f.field({ type: 'JSON', required: false }),
            nextReviewDate: f.field({ type: 'DateTime', required: false }),
            confidence: f.float({ required: false, validate: unitInterval }),
            processingTimeMs: f.int({ required: false, validate: nonNegativeInt }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'complianceMonitoring' } },
    resolve: (query, _root, { id, input }, ctx) =>
      updateResultAsCaller(
        ctx,
        { table: 'compliance_monitoring', label: 'compliance monitoring', id: id.id },
        {
          status: input.status ?? undefined,
          riskAssessment: jsonUpdate(input.riskAssessment),
          documentReviews: jsonUpdate(input.documentReviews),
          actionPlan: jsonUpdate(input.actionPlan),
          auditPreparation: jsonUpdate(input.auditPreparation),
          trainingMaterials: jsonUpdate(input.trainingMaterials),
          nextReviewDate: input.nextReviewDate,
          confidence: input.confidence,
          processingTimeMs: input.processingTimeMs,
        },
        (tx, data) => tx.complianceMonitoring.update({ ...query, where: { id: id.id }, data }),
      ),
  }),
);
