import { builder } from '../builder.ts';
import { ProjectRef } from '../projects.ts';
import {
  jsonInput,
  jsonUpdate,
  metadataObject,
  nonNegativeInt,
  requestAsCaller,
  solutionList,
  unitInterval,
  updateResultAsCaller,
} from './shared.ts';

export const LearningPathStatusEnum = builder.enumType('LearningPathStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'IN_PROGRESS', 'ON_HOLD'] as const,
});

export const LearningPathRef = builder.prismaNode('LearningPath', {
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
    status: t.expose('status', { type: LearningPathStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    project: t.relation('project', { nullable: true }),
    requestedBy: t.relation('user'),
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
    description: 'Queues a PENDING learning path in the active tenant, requested by you (MEMBER and up).',
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

builder.mutationField('updateLearningPathResult', (t) =>
  t.prismaField({
    type: 'LearningPath',
    description: 'Records progress or results of a learning path you requested, or any as ADMIN and up. Null clears a result.',
    args: {
      id: t.arg.globalID({ for: LearningPathRef, required: true }),
      input: t.arg({
        required: true,
        type: builder.inputType('UpdateLearningPathResultInput', {
          fields: (f) => ({
            status: f.field({ type: LearningPathStatusEnum, required: false }),
            skillAssessment: f.field({ type: 'JSON', required: false }),
            learningStyle: f.field({ type: 'JSON', required: false }),
            generatedPath: f.field({ type: 'JSON', required: false }),
            progressTracking: f.field({ type: 'JSON', required: false }),
            certifications: f.field({ type: 'JSON', required: false }),
            recommendations: f.field({ type: 'JSON', required: false }),
            estimatedCompletion: f.field({ type: 'DateTime', required: false }),
            confidence: f.float({ required: false, validate: unitInterval }),
            processingTimeMs: f.int({ required: false, validate: nonNegativeInt }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'learningPath' } },
    resolve: (query, _root, { id, input }, ctx) =>
      updateResultAsCaller(
        ctx,
        { table: 'learning_paths', label: 'learning path', id: id.id },
        {
          status: input.status ?? undefined,
          skillAssessment: jsonUpdate(input.skillAssessment),
          learningStyle: jsonUpdate(input.learningStyle),
          generatedPath: jsonUpdate(input.generatedPath),
          progressTracking: jsonUpdate(input.progressTracking),
          certifications: jsonUpdate(input.certifications),
          recommendations: jsonUpdate(input.recommendations),
          estimatedCompletion: input.estimatedCompletion,
          confidence: input.confidence,
          processingTimeMs: input.processingTimeMs,
        },
        (tx, data) => tx.learningPath.update({ ...query, where: { id: id.id }, data }),
      ),
  }),
);
