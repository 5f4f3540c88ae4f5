import type { AiConfig } from '../config.ts';
import type { WorkerProvider } from '../worker/requests.ts';
import { localProvider } from './local.ts';
import { openAiProvider } from './openai.ts';

/** The configured provider: the embedded local models by default, or an OpenAI-compatible service. */
export function createProvider(config: AiConfig): WorkerProvider {
  if (config.provider === 'local') return localProvider({ cacheDir: config.embeddingsCacheDir });
  return openAiProvider({
    baseUrl: config.baseUrl,
    apiKey: config.apiKey,
    embeddingModel: config.embeddingModel,
    chatModel: config.chatModel,
    timeoutMs: config.timeoutMs,
  });
}

/** What the start-up log says about the provider; never the key. */
export function describeProvider(config: AiConfig): string {
  return config.provider === 'local'
    ? 'local (word vectors and text analysis in process)'
    : `openai-compatible at ${config.baseUrl} (embeddings ${config.embeddingModel}, chat ${config.chatModel})`;
}
