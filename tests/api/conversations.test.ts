import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { createTestGateway, type GraphQLResponse } from '../support/gateway.ts';
import { createWorld, insertRow, type World, type WorldUser } from '../support/world.ts';

let db: TestDatabase;
let world: World;
let api: ReturnType<typeof createTestGateway>;

beforeAll(async () => {
  db = await createTestDatabase();
  world = await createWorld(db.owner);
  api = createTestGateway(db);
});
afterAll(() => db?.close());

type Result = { __typename?: string; code?: string; message?: string; [key: string]: unknown };

const seedConversation = (tenantId: string, userId: string, title: string, extra: Record<string, unknown> = {}) =>
  db.owner.transaction((tx) => insertRow(tx, 'conversations', { tenant_id: tenantId, user_id: userId, title, ...extra }));

const counts = async () =>
  (
    await db.owner.query<{ c: number; m: number }>(
      'select (select count(*) from public.conversations)::int as c, (select count(*) from public.messages)::int as m',
    )
  ).rows[0]!;

/** A query refused before it reads any conversations: the error's code, and no statement on the table. */
async function expectRefused(run: () => Promise<GraphQLResponse>, code: string) {
  db.statements.length = 0;
  const { body } = await run();
  expect(body.data).toBeNull();
  expect(body.errors?.map((error) => error.extensions?.code)).toEqual([code]);
  expect(db.statements.filter((sql) => sql.includes('"conversations"'))).toEqual([]);
}

const LIST = `query ($filter: ConversationFilter, $orderBy: ConversationOrderField) {
  conversations(filter: $filter, orderBy: $orderBy, direction: ASC) { totalCount edges { node { title isActive owner { id } } } }
}`;
type List = { conversations: { totalCount: number; edges: { node: { title: string; isActive: boolean } }[] } };
const titles = (body: { data?: List | null }) => body.data!.conversations.edges.map((e) => e.node.title);

const START = `mutation ($input: StartConversationInput!) {
  startConversation(input: $input) {
    __typename
    ... on MutationStartConversationSuccess {
      conversation { id title owner { id } messages { totalCount edges { node { role content } } } }
    }
    ... on MutationError { code message }
  }
}`;

const SEND = `mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) {
    ... on MutationSendMessageSuccess { sentMessage { role content conversation { id updatedAt } } }
    ... on MutationError { code message }
  }
}`;

const ARCHIVE = `mutation ($id: ID!) {
  archiveConversation(id: $id) { ... on MutationArchiveConversationSuccess { conversation { isActive } } ... on MutationError { code } }
}`;

describe('conversations query', () => {
  it('lists only the caller’s own conversations in the active tenant, with filters, order and totalCount', async () => {
    const me = world.a.member;
    await seedConversation(world.a.id, me.id, 'Alpha plan', { created_at: '2024-01-01T00:00:00Z' });
    await seedConversation(world.a.id, me.id, 'Beta notes', { is_active: false });
    await seedConversation(world.a.id, world.a.owner.id, 'Owner secret plan');
    await seedConversation(world.b.id, world.b.member.id, 'Foreign plan');

    const all = await api.as<List>(me, world.a.id, LIST, { orderBy: 'CREATED_AT' });
    expect(titles(all.body)).toEqual(['Alpha plan', 'Beta notes']);
    expect(all.body.data!.conversations.totalCount).toBe(2);

    const filtered = await api.as<List>(me, world.a.id, LIST, { filter: { search: 'PLAN', isActive: true } });
    expect(titles(filtered.body)).toEqual(['Alpha plan']);
    expect(filtered.body.data!.conversations.totalCount).toBe(1);
    const recent = await api.as<List>(me, world.a.id, LIST, { filter: { createdAt: { from: '2025-01-01T00:00:00Z' } } });
    expect(titles(recent.body)).toEqual(['Beta notes']);

    // The tenant's OWNER sees only their own conversation, never the member's.
    const owner = await api.as<List>(world.a.owner, world.a.id, LIST);
    expect(titles(owner.body)).toEqual(['Owner secret plan']);
  });

  it('refuses anonymous callers and tokens naming a tenant the user does not belong to', async () => {
    await expectRefused(() => api.graphql(LIST), 'UNAUTHENTICATED');
    await expectRefused(() => api.as(world.b.owner, world.a.id, LIST), 'FORBIDDEN');
    const viewer = await api.as<List>(world.a.viewer, world.a.id, LIST);
    expect(viewer.body.data!.conversations.totalCount).toBe(0);
    // The control: an allowed query does show up in the statement log expectRefused reads.
    expect(db.statements.some((sql) => sql.includes('"conversations"'))).toBe(true);
  });

  it('node(id) of someone else’s conversation is null, even for the tenant’s OWNER and ADMIN', async () => {
    const raw = await seedConversation(world.a.id, world.a.member.id, 'Private');
    const message = await db.owner.transaction((tx) =>
      insertRow(tx, 'messages', { tenant_id: world.a.id, conversation_id: raw, role: 'USER', content: 'hi' }),
    );
    const query = 'query ($id: ID!, $m: ID!) { node(id: $id) { id } message: node(id: $m) { id } }';
    const variables = { id: encodeGlobalID('Conversation', raw), m: encodeGlobalID('Message', message) };
    for (const [user, tenantId] of [
      [world.a.owner, world.a.id],
      [world.a.admin, world.a.id],
      [world.b.owner, world.b.id],
      [world.b.owner, world.a.id],
    ] as const) {
      expect((await api.as(user, tenantId, query, variables)).body).toEqual({ data: { node: null, message: null } });
    }
    expect((await api.graphql('query ($id: ID!) { node(id: $id) { id } }', { variables })).body).toEqual({ data: { node: null } });
    const mine = await api.as(world.a.member, world.a.id, query, variables);
    expect(mine.body).toEqual({ data: { node: { id: variables.id }, message: { id: variables.m } } });
  });
});

describe('conversation mutations', () => {
  it('startConversation creates it as the caller, with an optional first USER message', async () => {
    const response = await api.as<{ startConversation: Result }>(world.a.member, world.a.id, START, {
      input: { title: '  Kickoff  ', firstMessage: 'Hello there', metadata: { model: 'x' } },
    });
    expect(response.body.data!.startConversation).toMatchObject({
      __typename: 'MutationStartConversationSuccess',
      conversation: {
        title: 'Kickoff',
        owner: { id: encodeGlobalID('User', world.a.member.id) },
        messages: { totalCount: 1, edges: [{ node: { role: 'USER', content: 'Hello there' } }] },
      },
    });
    const bare = await api.as<{ startConversation: Result }>(world.b.viewer, world.b.id, START, { input: {} });
    expect(bare.body.data!.startConversation).toMatchObject({ code: 'FORBIDDEN' });
    const other = await api.as<{ startConversation: Result }>(world.b.member, world.b.id, START, { input: {} });
    expect(other.body.data!.startConversation).toMatchObject({ conversation: { title: null, messages: { totalCount: 0 } } });
  });

  it('startConversation refuses VIEWER, anonymous, forged tenants and bad input, writing nothing', async () => {
    const before = await counts();
    const input = { title: 'No', firstMessage: 'No' };
    const viewer = await api.as<{ startConversation: Result }>(world.a.viewer, world.a.id, START, { input });
    expect(viewer.body.data!.startConversation).toMatchObject({ code: 'FORBIDDEN' });
    const anon = await api.graphql<{ startConversation: Result }>(START, { variables: { input } });
    expect(anon.body.data!.startConversation).toMatchObject({ code: 'UNAUTHENTICATED' });
    const forged = await api.as<{ startConversation: Result }>(world.b.owner, world.a.id, START, { input });
    expect(forged.body.data!.startConversation).toMatchObject({ code: 'FORBIDDEN' });
    const empty = await api.as<{ startConversation: Result }>(world.a.member, world.a.id, START, { input: { firstMessage: '' } });
    expect(empty.body.data!.startConversation).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('firstMessage') });
    const long = await api.as<{ startConversation: Result }>(world.a.member, world.a.id, START, { input: { title: 'x'.repeat(501) } });
    expect(long.body.data!.startConversation).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('title') });
    expect(await counts()).toEqual(before);
  });

  it('sendMessage appends to your conversation in order and moves its updatedAt forward', async () => {
    const raw = await seedConversation(world.a.id, world.a.member.id, 'Chat', {
      updated_at: '2024-01-01T00:00:00Z',
    });
    const conversationId = encodeGlobalID('Conversation', raw);
    const first = await api.as<{ sendMessage: Result }>(world.a.member, world.a.id, SEND, { input: { conversationId, content: 'Question?' } });
    expect(first.body.data!.sendMessage).toMatchObject({ sentMessage: { role: 'USER', content: 'Question?' } });
    const updatedAt = (first.body.data!.sendMessage.sentMessage as { conversation: { updatedAt: string } }).conversation.updatedAt;
    expect(Date.parse(updatedAt)).toBeGreaterThan(Date.parse('2024-01-02T00:00:00Z'));
    const second = await api.as<{ sendMessage: Result }>(world.a.member, world.a.id, SEND, {
      input: { conversationId, content: 'Answer.' },
    });
    expect(second.body.data!.sendMessage).toMatchObject({ sentMessage: { role: 'USER' } });
    const thread = await api.as<{ node: { messages: { edges: { node: { content: string } }[] } } }>(
      world.a.member,
      world.a.id,
      'query ($id: ID!) { node(id: $id) { ... on Conversation { messages { edges { node { content } } } } } }',
      { id: conversationId },
    );
    expect(thread.body.data!.node.messages.edges.map((e) => e.node.content)).toEqual(['Question?', 'Answer.']);
  });

  it('sendMessage: NOT_FOUND for anyone but the conversation’s user, typed refusals otherwise, nothing written', async () => {
    const raw = await seedConversation(world.a.id, world.a.member.id, 'Mine only', { updated_at: '2024-01-01T00:00:00Z' });
    const input = { conversationId: encodeGlobalID('Conversation', raw), content: 'Intrusion' };
    const before = await counts();
    const callers: [WorldUser, string][] = [
      [world.a.owner, world.a.id],
      [world.a.admin, world.a.id],
      [world.b.owner, world.b.id],
    ];
    for (const [user, tenantId] of callers) {
      expect((await api.as<{ sendMessage: Result }>(user, tenantId, SEND, { input })).body.data!.sendMessage).toEqual({
        code: 'NOT_FOUND',
        message: expect.any(String),
      });
    }
    // Writing takes MEMBER and up in the active tenant, before any conversation is looked at.
    for (const [user, tenantId] of [[world.a.viewer, world.a.id], [world.b.owner, world.a.id]] as const) {
      expect((await api.as<{ sendMessage: Result }>(user, tenantId, SEND, { input })).body.data!.sendMessage).toMatchObject({ code: 'FORBIDDEN' });
    }
    const anon = await api.graphql<{ sendMessage: Result }>(SEND, { variables: { input } });
    expect(anon.body.data!.sendMessage).toMatchObject({ code: 'UNAUTHENTICATED' });
    const tooLong = await api.as<{ sendMessage: Result }>(world.a.member, world.a.id, SEND, {
      input: { ...input, content: 'x'.repeat(100_001) },
    });
    expect(tooLong.body.data!.sendMessage).toMatchObject({ code: 'VALIDATION_FAILED', message: expect.stringContaining('content') });
    expect(await counts()).toEqual(before);
    const { rows } = await db.owner.query<{ updated_at: Date }>('select updated_at from public.conversations where id = $1', [raw]);
    expect(rows[0]!.updated_at.toISOString()).toBe('2024-01-01T00:00:00.000Z');
  });

  it('archiveConversation: your own only', async () => {
    const raw = await seedConversation(world.b.id, world.b.member.id, 'To archive');
    const id = encodeGlobalID('Conversation', raw);
    expect((await api.as(world.b.owner, world.b.id, ARCHIVE, { id })).body.data).toEqual({ archiveConversation: { code: 'NOT_FOUND' } });
    expect((await api.as(world.a.member, world.a.id, ARCHIVE, { id })).body.data).toEqual({ archiveConversation: { code: 'NOT_FOUND' } });
    expect((await api.graphql(ARCHIVE, { variables: { id } })).body.data).toEqual({ archiveConversation: { code: 'UNAUTHENTICATED' } });
    expect((await api.as(world.b.member, world.b.id, ARCHIVE, { id })).body.data).toEqual({
      archiveConversation: { conversation: { isActive: false } },
    });
    const inactive = await api.as<List>(world.b.member, world.b.id, LIST, { filter: { isActive: false } });
    expect(titles(inactive.body)).toContain('To archive');
  });

  it('a failed mutation leaves nothing behind while the others of the operation stand', async () => {
    const foreign = encodeGlobalID('Conversation', await seedConversation(world.b.id, world.b.owner.id, 'Not yours'));
    const before = await counts();
    const operation = `mutation ($foreign: ID!) {
      kept: startConversation(input: { title: "Kept", firstMessage: "one" }) { __typename }
      invalid: startConversation(input: { title: "${'x'.repeat(501)}", firstMessage: "two" }) { __typename ... on MutationError { code } }
      refused: sendMessage(input: { conversationId: $foreign, content: "three" }) { __typename ... on MutationError { code } }
    }`;
    const response = await api.as<Record<string, Result>>(world.b.member, world.b.id, operation, { foreign });
    expect(response.body.data).toEqual({
      kept: { __typename: 'MutationStartConversationSuccess' },
      invalid: { __typename: 'MutationError', code: 'VALIDATION_FAILED' },
      refused: { __typename: 'MutationError', code: 'NOT_FOUND' },
    });
    expect(await counts()).toEqual({ c: before.c + 1, m: before.m + 1 });
  });
});
