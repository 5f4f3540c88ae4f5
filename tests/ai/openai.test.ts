import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openAiProvider } from '../../src/ai/openai.ts';
import { AiProviderError, EMBEDDING_DIMENSIONS } from '../../src/ai/provider.ts';

// A local server speaking the OpenAI HTTP API; each test says how it answers.
type Handler = (path: string, body: Record<string, unknown>, request: IncomingMessage, response: ServerResponse) => void;
let server: Server;
let baseUrl: string;
let handler: Handler;
const seen: { path: string; body: Record<string, unknown>; authorization?: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      seen.push({ path: request.url!, body, authorization: request.headers.authorization });
      handler(request.url!.replace(/^\/v1/, ''), body, request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
});

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** A deterministic embedding of a text: its character codes spread over the dimensions. */
function vectorOf(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0.001);
  for (let i = 0; i < text.length; i++) vector[(text.charCodeAt(i) * 7 + i) % dimensions]! += 1;
  return vector;
}

const provider = (extra: Partial<Parameters<typeof openAiProvider>[0]> = {}) =>
  openAiProvider({ baseUrl, apiKey: 'sk-test', embeddingModel: 'embed-small', chatModel: 'chat-small', ...extra });

async function failure(promise: Promise<unknown>): Promise<AiProviderError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AiProviderError);
  return error as AiProviderError;
}

describe('the OpenAI-compatible provider', () => {
  it('embeds in batches, asks for 384 dimensions, keeps the order of the answer\'s indexes, and normalizes', async () => {
    handler = (_path, body, _request, response) => {
      const input = body.input as string[];
      // Answered in reverse, as the API allows: index says which input each is.
      json(response, 200, { data: input.map((text, index) => ({ index, embedding: vectorOf(text) })).reverse(), model: body.model });
    };
    const texts = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const vectors = await provider({ batchSize: 2 }).embed(texts);
    expect(seen.map((call) => (call.body.input as string[]).length)).toEqual([2, 2, 1]);
    expect(seen.every((call) => call.path === '/v1/embeddings' && call.body.dimensions === 384 && call.body.model === 'embed-small')).toBe(true);
    expect(seen[0]!.authorization).toBe('Bearer sk-test');
    expect(vectors).toHaveLength(5);
    for (const [index, embedded] of vectors.entries()) {
      const vector = embedded!;
      expect(vector).toHaveLength(EMBEDDING_DIMENSIONS);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      const expected = vectorOf(texts[index]!);
      const length = Math.hypot(...expected);
      expect(vector[0]).toBeCloseTo(expected[0]! / length, 5);
    }
  });

  it('chats with a system prompt and the user message, and reports the answering model', async () => {
    handler = (_path, body, _request, response) =>
      json(response, 200, { model: 'chat-small-2026', choices: [{ message: { role: 'assistant', content: `echo: ${(body.messages as { content: string }[])[1]!.content}` } }] });
    const answer = await provider().chat('You classify sentiment.', 'I love it');
    expect(answer).toEqual({ text: 'echo: I love it', model: 'chat-small-2026' });
    expect(seen[0]!.body.messages).toEqual([
      { role: 'system', content: 'You classify sentiment.' },
      { role: 'user', content: 'I love it' },
    ]);
  });

  it.each([
    [500, true],
    [503, true],
    [429, true],
    [408, true],
    [401, false],
    [400, false],
    [404, false],
  ])('classifies HTTP %i as retryable: %s', async (status, retryable) => {
    handler = (_path, _body, _request, response) => json(response, status, { error: { message: 'nope' } });
    const error = await failure(provider().embed(['x']));
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it('gives up on a service that does not answer in time, retryably', async () => {
    handler = () => {}; // never answers
    const started = Date.now();
    const error = await failure(provider({ timeoutMs: 200 }).embed(['slow']));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/no answer within 200 ms/);
  });

  it('reports an unreachable service as retryable', async () => {
    const error = await failure(openAiProvider({ baseUrl: 'http://127.0.0.1:9/v1', embeddingModel: 'e', chatModel: 'c' }).embed(['x']));
    expect(error.retryable).toBe(true);
  });

  it.each([
    ['not JSON', '{"data": [', /not JSON/],
    ['no data', { object: 'list' }, /expected 1 embeddings/],
    ['too few embeddings', { data: [] }, /expected 1 embeddings, got 0/],
    ['strings for numbers', { data: [{ index: 0, embedding: ['1', '2'] }] }, /not a list of numbers/],
    ['another length', { data: [{ index: 0, embedding: vectorOf('x', 1536) }] }, /1536 dimensions, not 384/],
    ['an index out of range', { data: [{ index: 7, embedding: vectorOf('x') }] }, /indexes do not match/],
    ['a zero vector', { data: [{ index: 0, embedding: new Array(384).fill(0) }] }, /no direction/],
  ])('refuses an answer with %s, for good', async (_label, body, message) => {
    handler = (_path, _body, _request, response) => json(response, 200, body);
    const error = await failure(provider().embed(['x']));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(message);
  });

  it('refuses a chat answer without content, for good', async () => {
    handler = (_path, _body, _request, response) => json(response, 200, { choices: [] });
    const error = await failure(provider().chat('s', 'u'));
    expect(error.retryable).toBe(false);
  });
});
