import { AiProviderError, type ChatAnswer, type ChatProvider, EMBEDDING_DIMENSIONS, normalize } from './provider.ts';

export interface OpenAiOptions {
  /** The API's base, up to and including its version: `https://api.openai.com/v1`, `http://localhost:11434/v1` (Ollama). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; local servers usually need none. */
  apiKey?: string;
  /** Asked for EMBEDDING_DIMENSIONS dimensions (`dimensions`); a model that answers another length is refused. */
  embeddingModel: string;
  chatModel: string;
  /** Longest one call may take, in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Texts per embeddings call (default 64). */
  batchSize?: number;
  fetch?: typeof fetch;
}

interface EmbeddingsAnswer {
  data?: { index?: unknown; embedding?: unknown }[];
}

interface ChatCompletionAnswer {
  model?: unknown;
  choices?: { message?: { content?: unknown } }[];
}

/**
 * Any service speaking OpenAI's HTTP API (`POST /embeddings`, `POST /chat/completions`):
 * OpenAI itself, Ollama, vLLM, llama.cpp's server and the like. Failures are classified for
 * the job queue: timeouts, 408, 429 and 5xx may succeed later; other statuses and answers
 * that are not what the API promises never will.
 */
export function openAiProvider(options: OpenAiOptions): ChatProvider {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const batchSize = options.batchSize ?? 64;
  const send = options.fetch ?? fetch;

  async function post<Answer>(path: string, body: object): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    let response: Response;
    try {
      response = await send(`${base}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const timedOut = (error as { name?: string }).name === 'TimeoutError';
      throw new AiProviderError(timedOut ? `${path}: no answer within ${timeoutMs} ms` : `${path}: the service cannot be reached`, true, { cause: error });
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => '')).slice(0, 300);
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      throw new AiProviderError(`${path}: HTTP ${response.status}${detail ? `: ${detail}` : ''}`, retryable);
    }
    try {
      return (await response.json()) as Answer;
    } catch (error) {
      throw new AiProviderError(`${path}: the answer is not JSON`, false, { cause: error });
    }
  }

  async function embedBatch(texts: readonly string[]): Promise<Float32Array[]> {
    const answer = await post<EmbeddingsAnswer>('/embeddings', { model: options.embeddingModel, input: texts, dimensions: EMBEDDING_DIMENSIONS });
    const data = Array.isArray(answer?.data) ? answer.data : undefined;
    if (!data || data.length !== texts.length) throw new AiProviderError(`/embeddings: expected ${texts.length} embeddings, got ${data?.length ?? 'none'}`, false);
    const vectors: Float32Array[] = new Array(texts.length);
    data.forEach((item, position) => {
      const index = typeof item.index === 'number' ? item.index : position;
      const embedding = item.embedding;
      if (!Array.isArray(embedding) || !embedding.every((value) => typeof value === 'number' && Number.isFinite(value))) {
        throw new AiProviderError('/embeddings: an embedding is not a list of numbers', false);
      }
      if (embedding.length !== EMBEDDING_DIMENSIONS) {
        throw new AiProviderError(
          `/embeddings: ${options.embeddingModel} answered ${embedding.length} dimensions, not ${EMBEDDING_DIMENSIONS}; choose a model that supports \`dimensions\` or gives ${EMBEDDING_DIMENSIONS}`,
          false,
        );
      }
      if (index < 0 || index >= texts.length || vectors[index]) throw new AiProviderError('/embeddings: the answer\'s indexes do not match the input', false);
      vectors[index] = normalize(Float32Array.from(embedding as number[]));
    });
    return vectors;
  }

  return {
    name: 'openai',
    embeddingModel: options.embeddingModel,
    async embed(texts) {
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += batchSize) vectors.push(...(await embedBatch(texts.slice(start, start + batchSize))));
      return vectors;
    },
    async chat(system, user): Promise<ChatAnswer> {
      const answer = await post<ChatCompletionAnswer>('/chat/completions', {
        model: options.chatModel,
        messages: [
          { role: 'system', content: system },
          { role: 'user', content: user },
        ],
      });
      const content = answer?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new AiProviderError('/chat/completions: the answer has no message content', false);
      return { text: content, model: typeof answer.model === 'string' ? answer.model : options.chatModel };
    },
  };
}
