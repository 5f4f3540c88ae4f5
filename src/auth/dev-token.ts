import { SignJWT } from 'jose';
import { AuthError } from './errors.ts';
import type { DevIdentity } from './dev-identities.ts';

/** Signs a token shaped like Supabase Auth's for a user of the embedded database. */
export async function signDevToken(
  secret: string,
  identity: DevIdentity,
  options: { tenantSlug?: string; expiresIn?: string; audience?: string } = {},
): Promise<string> {
  let tenantId = identity.defaultTenantId;
  if (options.tenantSlug) {
    const tenant = identity.tenants.find((t) => t.slug === options.tenantSlug);
    if (!tenant) {
      const slugs = identity.tenants.map((t) => t.slug).join(', ') || 'none';
      throw new AuthError(`${identity.email} is not a member of tenant "${options.tenantSlug}"; their tenants: ${slugs}`);
    }
    tenantId = tenant.id;
  }
  return new SignJWT({
    role: 'authenticated',
    email: identity.email,
    app_metadata: tenantId ? { tenant_id: tenantId } : {},
    user_metadata: {},
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(identity.id)
    .setAudience(options.audience ?? 'authenticated')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(secret));
}

/** Signs a service_role token (no user): what the billing backend or the worker would send. */
export function signDevServiceToken(secret: string, options: { expiresIn?: string; audience?: string } = {}): Promise<string> {
  return new SignJWT({ role: 'service_role' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setAudience(options.audience ?? 'authenticated')
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '1h')
    .sign(new TextEncoder().encode(secret));
}
