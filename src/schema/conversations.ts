import { z } from 'zod';
import { DomainError } from '../errors.ts';
import { textCost } from '../limits/cost.ts';
import { builder } from './builder.ts';
import { plannedRelation } from './plan/registry.ts';
import { byColumn, tenantList } from './lists.ts';
import type { Prisma } from '../db/prisma.ts';
import { contains, dateRange, DateRangeInput, PAGE, searchText } from './filters.ts';
import { requireTenantId, requireUserId, runMutation } from '../session/mutation.ts';

export const MessageRoleEnum = builder.enumType('MessageRole', { values: ['USER', 'ASSISTANT', 'SYSTEM'] as const });

// Private to their user: the policies hide them even from the tenant's OWNER and ADMIN.
export const ConversationRef = builder.prismaNode('Conversation', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    title: t.exposeString('title', { nullable: true }),
    isActive: t.exposeBoolean('isActive'),
    metadata: t.expose('metadata', { type: 'JSON' }),
    owner: t.relation('user'),
    // Messages written in one operation share created_at; the id only makes the order stable.
    messages: t.relatedConnection(
      'messages',
      plannedRelation('Conversation', 'messages', {
        cursor: 'id',
        totalCount: true,
        ...PAGE,
        query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] },
      }),
    ),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'Moves forward with every message.' }),
  }),
});

builder.prismaNode('Message', {
  // Select mode: a query loads only the columns its fields read.
  select: { id: true },
  id: { field: 'id' },
  // node(id) answers null, not an error, for rows the caller cannot see.
  nullable: true,
  fields: (t) => ({
    role: t.expose('role', { type: MessageRoleEnum }),
    content: t.exposeString('content', { extensions: { cost: textCost(100_000) } }),
    metadata: t.expose('metadata', { type: 'JSON' }),
    conversation: t.relation('conversation'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

const ConversationOrderField = builder.enumType('ConversationOrderField', { values: ['UPDATED_AT', 'CREATED_AT'] as const });
const ORDER_COLUMN = { UPDATED_AT: 'updatedAt', CREATED_AT: 'createdAt' } as const;

const ConversationFilter = builder.inputType('ConversationFilter', {
  fields: (t) => ({
    isActive: t.boolean({ required: false }),
    createdAt: t.field({ type: DateRangeInput, required: false }),
    search: t.string({ required: false, validate: searchText, description: 'Matches the title.' }),
  }),
});

tenantList({
  field: 'conversations',
  model: 'Conversation',
  description: 'Your own conversations in the active tenant.',
  filter: ConversationFilter,
  where: async (filter, ctx) => conversationWhere(requireUserId(ctx), await requireTenantId(ctx), filter),
  order: { field: ConversationOrderField, defaultValue: 'UPDATED_AT', by: byColumn(ORDER_COLUMN) },
});

// The policies already limit rows to the caller; naming user and tenant lets the index serve the query.
function conversationWhere(
  userId: string,
  tenantId: string,
  filter: typeof ConversationFilter.$inferInput | null | undefined,
): Prisma.ConversationWhereInput {
  return {
    userId,
    tenantId,
    isActive: filter?.isActive ?? undefined,
    createdAt: dateRange(filter?.createdAt),
    title: filter?.search ? contains(filter.search) : undefined,
  };
}

const title = z.string().trim().min(1).max(500);
const content = z.string().min(1).max(100_000);

builder.mutationField('startConversation', (t) =>
  t.prismaField({
    type: 'Conversation',
    description: 'Starts a conversation of yours in the active tenant (MEMBER and up), optionally with a first USER message.',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('StartConversationInput', {
          fields: (f) => ({
            title: f.string({ required: false, validate: title }),
            metadata: f.field({ type: 'JSON', required: false }),
            firstMessage: f.string({ required: false, validate: content }),
          }),
        }),
      }),
    },
    errors: { dataField: { name: 'conversation' } },
    resolve: async (query, _root, { input }, ctx) => {
      const userId = requireUserId(ctx);
      const tenantId = await requireTenantId(ctx);
      return runMutation(ctx, async (tx) => {
        const { id } = await tx.conversation.create({
          data: { tenantId, userId, title: input.title ?? undefined, metadata: (input.metadata ?? {}) as never },
          select: { id: true },
        });
        if (input.firstMessage) {
          await tx.message.create({ data: { tenantId, conversationId: id, role: 'USER', content: input.firstMessage } });
        }
        return tx.conversation.findUniqueOrThrow({ ...query, where: { id } });
      });
    },
  }),
);

builder.mutationField('sendMessage', (t) =>
  t.prismaField({
    type: 'Message',
    description: 'Adds your message (role USER) to one of your conversations (MEMBER and up) and moves its updatedAt forward.',
    authScopes: { tenantRole: 'MEMBER' },
    args: {
      input: t.arg({
        required: true,
        type: builder.inputType('SendMessageInput', {
          fields: (f) => ({
            conversationId: f.globalID({ for: ConversationRef }),
            content: f.string({ validate: content }),
          }),
        }),
      }),
    },
    // Not `message`: MutationError.message is a String, and one selection cannot hold both.
    errors: { dataField: { name: 'sentMessage' } },
    resolve: (query, _root, { input }, ctx) =>
      runMutation(ctx, async (tx) => {
        // Only the conversation's own user sees it; for anyone else it does not exist.
        const conversation = await tx.conversation.findUnique({ where: { id: input.conversationId.id }, select: { id: true, tenantId: true } });
        if (!conversation) throw new DomainError('NOT_FOUND', 'no conversation of yours has this id');
        // A trigger moves the conversation's updated_at.
        return tx.message.create({
          ...query,
          data: { tenantId: conversation.tenantId, conversationId: conversation.id, role: 'USER', content: input.content },
        });
      }),
  }),
);

builder.mutationField('archiveConversation', (t) =>
  t.prismaField({
    type: 'Conversation',
    description: 'Marks one of your conversations inactive; its messages stay.',
    authScopes: { signedIn: true },
    args: { id: t.arg.globalID({ for: ConversationRef, required: true }) },
    errors: { dataField: { name: 'conversation' } },
    resolve: (query, _root, { id }, ctx) =>
      runMutation(ctx, (tx) => tx.conversation.update({ ...query, where: { id: id.id }, data: { isActive: false } })),
  }),
);
