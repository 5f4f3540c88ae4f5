import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const FILE_NAME = 'dev-jwt-secret';

/**
 * The HS256 secret of embedded development: created once under dataDir (mode 0600) so
 * tokens from `npm run token` stay valid across restarts. Never used in production.
 */
export async function loadOrCreateDevSecret(dataDir: string): Promise<{ secret: string; file: string; created: boolean }> {
  const file = path.join(dataDir, FILE_NAME);
  try {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length >= 32) return { secret, file, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return { secret, file, created: true };
}
