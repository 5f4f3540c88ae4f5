import { parseArgs } from 'node:util';
import { readDevIdentities } from '../auth/dev-identities.ts';
import { loadOrCreateDevSecret } from '../auth/dev-secret.ts';
import { signDevToken } from '../auth/dev-token.ts';
import { loadConfig } from '../config.ts';

// Prints a token for a user of the embedded database: `npm run token -- --email <email> [--tenant <slug>]`.
const usage = 'usage: npm run token -- --email <email> [--tenant <slug>] [--expires 12h]';

async function main() {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, tenant: { type: 'string' }, expires: { type: 'string', default: '12h' } },
  });
  if (!values.email) throw new Error(`--email is required\n${usage}`);
  const config = loadConfig();
  if (config.production) throw new Error('development tokens are not available when NODE_ENV is production');
  const identities = await readDevIdentities(config.dataDir).catch(() => {
    throw new Error(`no users known in ${config.dataDir}: start the server once with \`npm start\``);
  });
  const identity = identities.find((candidate) => candidate.email?.toLowerCase() === values.email!.toLowerCase());
  if (!identity) {
    throw new Error(`no user with email ${values.email}; known: ${identities.map((i) => i.email).join(', ')}`);
  }
  const secret = config.auth.jwtSecret ?? (await loadOrCreateDevSecret(config.dataDir)).secret;
  console.log(await signDevToken(secret, identity, { tenantSlug: values.tenant, expiresIn: values.expires, audience: config.auth.audience }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
