import { z } from 'zod';
import { builder } from './builder.ts';
import { plannedRelation } from './plan/registry.ts';
import { byColumn, tenantList } from './lists.ts';
import type { Prisma } from '../db/prisma.ts';
import { contains, dateRange, DateRangeInput, PAGE, searchText } from './filters.ts';
import { requireTenantId, requireUserId, runMutation } from '../session/mutation.ts';
import { ProjectRef } from './projects.ts';

export const UploadStatusEnum = builder.enumType('UploadStatus', {
  values: ['PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'DELETED'] as const,
});

export const UploadRef = builder.prismaNode('Upload', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    filename: t.exposeString('filename'),
    originalName: t.exposeString('originalName'),
    path: t.exposeString('path'),
    // A bigint column, but GraphQL Int is 32-bit; Float holds whole numbers exactly up to 2^53 bytes.
    sizeBytes: t.float({ select: { sizeBytes: true }, resolve: (upload) => Number(upload.sizeBytes) }),
    mimeType: t.exposeString('mimeType'),
    status: t.expose('status', { type: UploadStatusEnum }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    processedAt: t.expose('processedAt', { type: 'DateTime', nullable: true }),
    project: t.relation('project', { nullable: true }),
    uploadedBy: t.relation('user', { nullable: true, description: 'Null once the uploader has left the tenant.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

builder.prismaObjectField(ProjectRef, 'uploads', (t) =>
  t.relatedConnection(
    'uploads',
    plannedRelation('Project', 'uploads', {
      cursor: 'id',
      totalCount: true,
      ...PAGE,
      description: 'Files uploaded to this project, newest first.',
      query: { orderBy: [{ createdAt: 'desc' }, { id: 'asc' }] },
    }),
  ),
);

const UploadOrderField = builder.enumType('UploadOrderField', { values: ['CREATED_AT', 'SIZE', 'ORIGINAL_NAME'] as const });
const ORDER_COLUMN = { CREATED_AT: 'createdAt', SIZE: 'sizeBytes', ORIGINAL_NAME: 'originalName' } as const;

const mimeType = z
  .string()
  .max(255)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, {
    error: (issue) => `expected a lowercase type/subtype such as "image/png", got ${JSON.stringify(issue.input)}`,
  });

const UploadFilter = builder.inputType('UploadFilter', {
  fields: (t) => ({
    status: t.field({ type: [UploadStatusEnum], required: false }),
    projectId: t.globalID({ required: false, for: ProjectRef }),
    mimeTypePrefix: t.string({
      required: false,
      validate: z.string().min(1).max(255),
      description: 'Matches MIME types that start with it, e.g. "image/".',
    }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
    search: t.string({ required: false, validate: searchText, description: 'Matches the original file name.' }),
  }),
});

function uploadWhere(tenantId: string, filter: typeof UploadFilter.$inferInput | null | undefined): Prisma.UploadWhereInput {
  return {
    tenantId,
    status: filter?.status ? { in: filter.status } : undefined,
    projectId: filter?.projectId?.id,
    mimeType: filter?.mimeTypePrefix ? { startsWith: filter.mimeTypePrefix.toLowerCase() } : undefined,
    createdAt: dateRange(filter?.createdAt),
    originalName: filter?.search ? contains(filter.search) : undefined,
  };
}

tenantList({
  field: 'uploads',
  model: 'Upload',
  description: 'Uploads of the active tenant.',
  filter: UploadFilter,
  where: async (filter, ctx) => uploadWhere(await requireTenantId(ctx), filter),
  order: { field: UploadOrderField, defaultValue: 'CREATED_AT', by: byColumn(ORDER_COLUMN) },
});

const name255 = z.string().trim().min(1).max(255);

builder.mutationField('registerUpload', (t) =>
  t.prismaField({
    type: 'Upload',
    description: 'Records a file stored at `path` as PENDING, uploaded by you, in the active tenant (MEMBER and up).',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('RegisterUploadInput', {
          fields: (f) => ({
            filename: f.string({ validate: name255 }),
            originalName: f.string({ validate: name255 }),
            path: f.string({ validate: z.string().trim().min(1).max(1024) }),
            sizeBytes: f.float({ validate: z.number().int().min(0).max(10 * 1024 ** 3), description: 'At most 10 GiB.' }),
            mimeType: f.string({ validate: mimeType }),
            projectId: f.globalID({ required: false, for: ProjectRef }),
            metadata: f.field({ type: 'JSON', required: false }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'upload' } },
    resolve: async (query, _root, { input }, ctx) => {
      const userId = requireUserId(ctx);
      const tenantId = await requireTenantId(ctx);
      return runMutation(ctx, (tx) =>
        tx.upload.create({
          ...query,
          data: {
            tenantId,
            userId,
            // The composite foreign key refuses a project of another tenant (NOT_FOUND).
            projectId: input.projectId?.id,
            filename: input.filename,
            originalName: input.originalName,
            path: input.path,
            sizeBytes: BigInt(input.sizeBytes),
            mimeType: input.mimeType,
            metadata: (input.metadata ?? {}) as never,
          },
        }),
      );
    },
  }),
);

builder.mutationField('setUploadStatus', (t) =>
  t.prismaField({
    type: 'Upload',
    description:
      'Records the processing status of an upload (service_role: the file processor); COMPLETED stamps processedAt. ' +
      'The database decides which status moves are allowed (INVALID_TRANSITION otherwise).',
    authScopes: { serviceRole: true },
    args: {
      id: t.arg.globalID({ for: UploadRef, required: true }),
      status: t.arg({ type: UploadStatusEnum, required: true }),
    },
    errors: { dataField: { name: 'upload' } },
    resolve: (query, _root, { id, status }, ctx) =>
      runMutation(ctx, (tx) =>
        tx.upload.update({
          ...query,
          where: { id: id.id },
          // Processing finished now; no move leads back to PENDING or PROCESSING, so nothing clears it.
          data: { status, processedAt: status === 'COMPLETED' ? new Date() : undefined },
        }),
      ),
  }),
);
