import { z } from 'zod';
import type { Prisma } from '../db/prisma.ts';
import { builder } from './builder.ts';
import { dateRange, DateRangeInput, PAGE } from './filters.ts';

export const AuditActionEnum = builder.enumType('AuditAction', { values: ['INSERT', 'UPDATE', 'DELETE'] as const });

builder.prismaNode('AuditLog', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  description: 'One write to a business table, recorded by a trigger (OWNER and ADMIN; entries of private rows to their owner only).',
  fields: (t) => ({
    actorId: t.exposeID('actorId', { nullable: true, description: 'The writing user\'s id; a plain uuid, as the user may be gone.' }),
    actorRole: t.exposeString('actorRole'),
    tableName: t.exposeString('tableName'),
    rowId: t.exposeID('rowId', { nullable: true }),
    action: t.expose('action', { type: AuditActionEnum }),
    oldValues: t.expose('oldValues', { type: 'JSON', nullable: true }),
    newValues: t.expose('newValues', { type: 'JSON', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const AuditLogFilter = builder.inputType('AuditLogFilter', {
  fields: (t) => ({
    tableName: t.string({ required: false, validate: z.string().regex(/^[a-z_]{1,63}$/, 'a table name') }),
    action: t.field({ type: [AuditActionEnum], required: false }),
    rowId: t.string({ required: false, validate: z.uuid(), description: 'The written row\'s uuid (not a global id).' }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
  }),
});

function auditWhere(filter: typeof AuditLogFilter.$inferInput | null | undefined): Prisma.AuditLogWhereInput {
  return {
    tableName: filter?.tableName ?? undefined,
    action: filter?.action ? { in: filter.action } : undefined,
    rowId: filter?.rowId ?? undefined,
    createdAt: dateRange(filter?.createdAt),
  };
}

builder.queryField('auditLogs', (t) =>
  t.prismaConnection({
    type: 'AuditLog',
    cursor: 'id',
    ...PAGE,
    description: 'The active tenant\'s audit trail, newest first (OWNER and ADMIN); private rows\' entries only to their owner.',
    authScopes: { signedIn: true },
    args: { filter: t.arg({ type: AuditLogFilter, required: false }) },
    resolve: (query, _root, { filter }, ctx) =>
      ctx.prisma.auditLog.findMany({ ...query, where: auditWhere(filter), orderBy: [{ seq: 'desc' }] }),
    totalCount: (_connection, { filter }, ctx) => ctx.prisma.auditLog.count({ where: auditWhere(filter) }),
  }),
);
