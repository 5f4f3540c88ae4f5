import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('AI and worker settings', () => {
  it('defaults to the local provider and a worker inside the gateway', () => {
    const config = loadConfig({});
    expect(config.ai).toEqual({ provider: 'local', embeddingsCacheDir: undefined });
    expect(config.worker).toEqual({ enabled: true, concurrency: 2, pollIntervalMs: 1_000, leaseSeconds: 300 });
  });

  it('chooses the OpenAI-compatible provider when a base URL is given, with its models', () => {
    const config = loadConfig({ AI_BASE_URL: 'http://localhost:11434/v1', EMBEDDING_MODEL: 'all-minilm', CHAT_MODEL: 'llama3.1' });
    expect(config.ai).toMatchObject({ provider: 'openai', baseUrl: 'http://localhost:11434/v1', embeddingModel: 'all-minilm', chatModel: 'llama3.1' });
  });

  it('refuses settings that cannot work, naming the variable', () => {
    expect(() => loadConfig({ AI_PROVIDER: 'magic' })).toThrow(/AI_PROVIDER must be one of local, openai, got "magic"/);
    expect(() => loadConfig({ AI_PROVIDER: 'openai' })).toThrow(/AI_BASE_URL is not set/);
    expect(() => loadConfig({ AI_BASE_URL: 'ftp://x' })).toThrow(/AI_BASE_URL must be an http\(s\) URL/);
    expect(() => loadConfig({ WORKER_CONCURRENCY: '0' })).toThrow(/WORKER_CONCURRENCY must be an integer from 1 to 100/);
  });
});
