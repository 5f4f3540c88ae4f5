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

export const ContractTypeEnum = builder.enumType('ContractType', {
  values: [
    'EMPLOYMENT',
    'SERVICE_AGREEMENT',
    'NDA',
    'PARTNERSHIP',
    'SALES_CONTRACT',
    'LEASE_AGREEMENT',
    'LICENSE_AGREEMENT',
    'FRANCHISE',
    'MERGER_ACQUISITION',
    'OTHER',
  ] as const,
});

export const ContractAnalysisStatusEnum = builder.enumType('ContractAnalysisStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'REVIEW_REQUIRED'] as const,
});

export const ContractAnalysisRef = builder.prismaNode('ContractAnalysis', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'ContractWise: a contract reviewed for risks, clauses and compliance.',
  fields: (t) => ({
    contractTitle: t.exposeString('contractTitle'),
    contractType: t.expose('contractType', { type: ContractTypeEnum }),
    fileUrl: t.exposeString('fileUrl', { nullable: true }),
    extractedText: t.exposeString('extractedText', { nullable: true, extensions: { cost: textCost(1_000_000) } }),
    riskAssessment: t.expose('riskAssessment', { type: 'JSON', nullable: true }),
    clauses: t.expose('clauses', { type: 'JSON', nullable: true }),
    plainLanguage: t.expose('plainLanguage', { type: 'JSON', nullable: true }),
    complianceCheck: t.expose('complianceCheck', { type: 'JSON', nullable: true }),
    recommendations: t.expose('recommendations', { type: 'JSON', nullable: true }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    processingTimeMs: t.exposeInt('processingTimeMs', { nullable: true }),
    creditsCost: t.exposeInt('creditsCost', { description: 'What the request cost when it was made.' }),
    status: t.expose('status', { type: ContractAnalysisStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user', { nullable: true, description: 'Null once the requester has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

solutionList({
  model: 'ContractAnalysis',
  field: 'contractAnalyses',
  description: 'Contract analyses of the active tenant.',
  status: ContractAnalysisStatusEnum,
  search: { columns: ['contractTitle'], description: 'Matches the contract title.' },
});

builder.mutationField('requestContractAnalysis', (t) =>
  t.prismaField({
    type: 'ContractAnalysis',
    description: `Spends ${BUSINESS_SOLUTION_CREDIT_COST.contract_analyses} credits and queues a PENDING contract analysis in the active tenant, requested by you, both or neither (MEMBER and up).`,
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RequestContractAnalysisInput', {
          fields: (f) => ({
            contractTitle: f.string({ validate: boundedText(300) }),
            contractType: f.field({ type: ContractTypeEnum }),
            fileUrl: f.string({ required: false, validate: httpUrl, description: 'An http(s) URL of the contract file.' }),
            extractedText: f.string({ required: false, validate: longText(1_000_000) }),
            projectId: f.globalID({ for: ProjectRef, required: false }),
            metadata: f.field({ type: 'JSON', required: false, validate: metadataObject }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'contractAnalysis' } },
    resolve: (query, _root, { input }, ctx) =>
      requestAsCaller(ctx, (tx, owner) =>
        tx.contractAnalysis.create({
          ...query,
          data: {
            ...owner,
            projectId: input.projectId?.id,
            contractTitle: input.contractTitle,
            contractType: input.contractType,
            fileUrl: input.fileUrl ?? undefined,
            extractedText: input.extractedText ?? undefined,
            metadata: jsonInput(input.metadata) ?? {},
          },
        }),
      ),
  }),
);

solutionResultUpdate({
  model: 'ContractAnalysis',
  label: 'contract analysis',
  noun: 'contract analysis',
  ref: ContractAnalysisRef,
  status: ContractAnalysisStatusEnum,
  results: ['riskAssessment', 'clauses', 'plainLanguage', 'complianceCheck', 'recommendations'],
});
