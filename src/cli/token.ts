import { parseArgs } from 'node:util';
import { readDevIdentities } from '../auth/dev-identities.ts';
import { loadOrCreateDevSecret } from '../auth/dev-secret.ts';
import { signDevServiceToken, signDevToken } from '../auth/dev-token.ts';
import { loadConfig } from '../config.ts';

// Prints a token for a user of the embedded database, or a service_role token (`--service`).
const usage = 'usage: npm run token -- --email <email> [--tenant <slug>] [--expires 12h] | --service [--expires 1h]';

async function main() {
  const { values } = parseArgs({
    options: { email: { type: 'string' }, tenant: { type: 'string' }, expires: { type: 'string' }, service: { type: 'boolean' } },
  });
  const config = loadConfig();
  if (config.production) throw new Error('development tokens are not available when NODE_ENV is production');
  const secret = config.auth.jwtSecret ?? (await loadOrCreateDevSecret(config.dataDir)).secret;
  if (values.service) {
    console.log(await signDevServiceToken(secret, { expiresIn: values.expires ?? '1h', audience: config.auth.audience }));
    return;
  }
  if (!values.email) throw new Error(`--email or --service is required\n${usage}`);
  const identities = await readDevIdentities(config.dataDir).catch(() => {
    throw new Error(`no users known in ${config.dataDir}: start the server once with \`npm start\``);
  });
  const identity = identities.find((candidate) => candidate.email?.toLowerCase() === values.email!.toLowerCase());
  if (!identity) {
    throw new Error(`no user with email ${values.email}; known: ${identities.map((i) => i.email).join(', ')}`);
  }
  console.log(await signDevToken(secret, identity, { tenantSlug: values.tenant, expiresIn: values.expires ?? '12h', audience: config.auth.audience }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
