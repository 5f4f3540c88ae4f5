import { builder } from '../builder.ts';
import { BUSINESS_SOLUTION_CREDIT_COST, requestAsCaller } from '../credits.ts';
import { ProjectRef } from '../projects.ts';
import {
  jsonInput,
  metadataObject,
  solutionList,
  solutionResultUpdate,
} from './shared.ts';

export const LearningPathStatusEnum = builder.enumType('LearningPathStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'IN_PROGRESS', 'ON_HOLD'] as const,
});

export const LearningPathRef = builder.prismaNode('LearningPath', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'SkillPath: a personal learning path built from a skills profile.',
  fields: (t) => ({
    userProfile: t.expose('userProfile', { type: 'JSON', nullable: true, description: 'Skills, experience and goals.' }),
    skillAssessment: t.expose('skillAssessment', { type: 'JSON', nullable: true }),
    learningStyle: t.expose('learningStyle', { type: 'JSON', nullable: true }),
    generatedPath: t.expose('generatedPath', { type: 'JSON', nullable: true }),
    progressTracking: t.expose('progressTracking', { type: 'JSON', nullable: true }),
    certifications: t.expose('certifications', { type: 'JSON', nullable: true }),
    recommendations: t.expose('recommendations', { type: 'JSON', nullable: true }),
    estimatedCompletion: t.expose('estimatedCompletion', { type: 'DateTime', nullable: true }),
    confidence: t.exposeFloat('confidence', { nullable: true }),
    processingTimeMs: t.exposeInt('processingTimeMs', { nullable: true }),
    creditsCost: t.exposeInt('creditsCost', { description: 'What the request cost when it was made.' }),
    status: t.expose('status', { type: LearningPathStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user', { nullable: true, description: 'Null once the requester has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

// A learning path has no title-like text column, so its filter has no search.
solutionList({
  model: 'LearningPath',
  field: 'learningPaths',
  description: 'Learning paths of the active tenant.',
  status: LearningPathStatusEnum,
});

builder.mutationField('requestLearningPath', (t) =>
  t.prismaField({
    type: 'LearningPath',
    description: `Spends ${BUSINESS_SOLUTION_CREDIT_COST.learning_paths} credits and queues a PENDING learning path in the active tenant, requested by you, both or neither (MEMBER and up).`,
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RequestLearningPathInput', {
          fields: (f) => ({
            userProfile: f.field({ type: 'JSON', required: false, description: 'Skills, experience and goals of the learner.' }),
            projectId: f.globalID({ for: ProjectRef, required: false }),
            metadata: f.field({ type: 'JSON', required: false, validate: metadataObject }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'learningPath' } },
    resolve: (query, _root, { input }, ctx) =>
      requestAsCaller(ctx, (tx, owner) =>
        tx.learningPath.create({
          ...query,
          data: {
            ...owner,
            projectId: input.projectId?.id,
            userProfile: jsonInput(input.userProfile),
            metadata: jsonInput(input.metadata) ?? {},
          },
        }),
      ),
  }),
);

solutionResultUpdate({
  model: 'LearningPath',
  label: 'learning path',
  noun: 'learning path',
  ref: LearningPathRef,
  status: LearningPathStatusEnum,
  results: ['skillAssessment', 'learningStyle', 'generatedPath', 'progressTracking', 'certifications', 'recommendations'],
  dates: ['estimatedCompletion'],
});
