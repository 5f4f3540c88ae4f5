import type { RawData } from 'ws';

// The frames of Supabase Realtime's protocol as realtime-js's serializer (vsn 2.0.0) writes and
// reads them: Phoenix messages as JSON arrays `[join_ref, ref, topic, event, payload]`, and user
// broadcasts as binary frames (pushed as kind 3, delivered as kind 4). Decoding refuses anything
// else (undefined), so that nothing malformed is relayed to other clients.

/** A binary broadcast frame gives the byte length of its topic and of its event in one byte each. */
export const MAX_FIELD_BYTES = 255;
/** Binary frame kinds of realtime-js's serializer (lib/serializer.ts). */
const USER_BROADCAST_PUSH = 3;
const USER_BROADCAST = 4;
export const JSON_ENCODING = 1;
export const BINARY_ENCODING = 0;

export interface Message {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
}

/** A broadcast as it is relayed: the user's event and payload bytes, untouched. */
export interface Broadcast {
  event: string;
  encoding: typeof JSON_ENCODING | typeof BINARY_ENCODING;
  payload: Uint8Array;
}

export function decodeMessage(text: string): Message | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 5) return undefined;
  const [joinRef, ref, topic, event, payload] = value as unknown[];
  if (!isRef(joinRef) || !isRef(ref) || typeof topic !== 'string' || typeof event !== 'string') return undefined;
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  return { joinRef, ref, topic, event, payload: payload as Record<string, unknown> };
}

const isRef = (value: unknown): value is string | null => value === null || typeof value === 'string';

/**
 * A binary user broadcast push (serializer `_encodeUserBroadcastPush`): kind, the byte lengths
 * of join_ref, ref, topic, user event and metadata, the payload encoding, those five strings,
 * then the payload. Metadata (`persist`) is dropped: the gateway stores no broadcasts.
 */
export function decodeBroadcastPush(bytes: Buffer): { message: Message; broadcast: Broadcast } | undefined {
  const HEADER = 7;
  if (bytes.length < HEADER || bytes[0] !== USER_BROADCAST_PUSH) return undefined;
  const lengths = [bytes[1]!, bytes[2]!, bytes[3]!, bytes[4]!, bytes[5]!];
  const encoding = bytes[6];
  if (encoding !== JSON_ENCODING && encoding !== BINARY_ENCODING) return undefined;
  let offset = HEADER;
  const [joinRef = '', ref = '', topic = '', event = ''] = lengths.map((length) => {
    const text = bytes.toString('utf8', offset, offset + length);
    offset += length;
    return text;
  });
  // Invalid UTF-8 decodes to replacement characters, which may not fit the relayed frame's length byte.
  if (offset > bytes.length || !event || Buffer.byteLength(event) > MAX_FIELD_BYTES) return undefined;
  const payload = bytes.subarray(offset);
  // Receivers' realtime-js parses a JSON payload as it arrives: one that does not parse would break them.
  if (encoding === JSON_ENCODING && !parses(payload)) return undefined;
  return {
    message: { joinRef: joinRef || null, ref: ref || null, topic, event: 'broadcast', payload: {} },
    broadcast: { event, encoding, payload },
  };
}

/** A broadcast pushed as JSON (`{ type: 'broadcast', event, payload }`), as Phoenix's JSON serializer clients send it. */
export function broadcastOfJson(payload: Record<string, unknown>): Broadcast | undefined {
  const { event } = payload;
  if (typeof event !== 'string' || event === '' || Buffer.byteLength(event) > MAX_FIELD_BYTES) return undefined;
  return { event, encoding: JSON_ENCODING, payload: Buffer.from(JSON.stringify(payload.payload ?? {})) };
}

/** A binary user broadcast (serializer `_decodeUserBroadcast`): kind, byte lengths of topic, event and metadata, encoding, then each. */
export function encodeUserBroadcast(topic: string, { event, encoding, payload }: Broadcast): Buffer {
  const topicBytes = Buffer.from(topic);
  const eventBytes = Buffer.from(event);
  const header = Buffer.from([USER_BROADCAST, topicBytes.length, eventBytes.length, 0, encoding]);
  return Buffer.concat([header, topicBytes, eventBytes, payload]);
}

export const encodeMessage = ({ joinRef, ref, topic, event, payload }: Message): string => JSON.stringify([joinRef, ref, topic, event, payload]);

function parses(bytes: Uint8Array): boolean {
  try {
    JSON.parse(Buffer.from(bytes).toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}
