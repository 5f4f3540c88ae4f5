/** Every embedding the database stores is this long (`vector(384)` on analyses and posts). */
export const EMBEDDING_DIMENSIONS = 384;

/** What the background work asks of an AI service: embeddings for search, chat for requests. */
export interface AiProvider {
  readonly name: string;
  /** Recorded with every embedding written (embedding_model): a change of model is a change of space. */
  readonly embeddingModel: string;
  /**
   * One unit-length vector of EMBEDDING_DIMENSIONS per text, in order; null for a text the model
   * finds nothing in (a local word-vector model that knows none of its words).
   */
  embed(texts: readonly string[]): Promise<(Float32Array | null)[]>;
  /** One answer to a system prompt and a user message; absent for a provider without a chat model. */
  chat?(system: string, user: string): Promise<ChatAnswer>;
}

/** A provider that can also chat (an OpenAI-compatible service). */
export type ChatProvider = AiProvider & Required<Pick<AiProvider, 'chat'>>;

export interface ChatAnswer {
  text: string;
  /** The model that answered, as the service names it. */
  model: string;
}

/**
 * A provider's failure. `retryable` says whether the same call may succeed later (a timeout,
 * a rate limit, a server error) or never will (a refused key, a malformed answer, a model
 * that does not give EMBEDDING_DIMENSIONS), so a job queue knows whether to back off and retry.
 */
export class AiProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AiProviderError';
  }
}

/** Scales a vector to unit length, so cosine distance and inner product agree. */
export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const length = Math.sqrt(sum);
  if (length === 0 || !Number.isFinite(length)) throw new AiProviderError('the embedding has no direction (all zeros or not finite)', false);
  return vector.map((value) => value / length);
}
