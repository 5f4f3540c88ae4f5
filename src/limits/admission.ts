import type { Caller } from '../session/claims.ts';
import { withClaims } from '../session/claims.ts';
import type { Database } from '../db/database.ts';
import { refuse } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { RequestCounter } from './request-counter.ts';

export type Plan = 'FREE' | 'BASIC' | 'PRO' | 'ENTERPRISE';

/** Requests per minute a tenant may send, by plan, unless its setting `limits.requests_per_minute` says otherwise. */
export const PLAN_REQUESTS_PER_MINUTE: Readonly<Record<Plan, number>> = {
  FREE: 60,
  BASIC: 300,
  PRO: 1_200,
  ENTERPRISE: 6_000,
};

export interface RateLimits {
  /** Per signed-in user or API key, across their tenants. */
  callerPerMinute: number;
  /** Per client address, for anonymous requests. */
  anonymousPerMinute: number;
  /** How long a tenant's plan, status and limits are taken as read before they are read again. */
  cacheMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { callerPerMinute: 600, anonymousPerMinute: 300, cacheMs: 10_000 };

/** What admission needs to know of a (user, tenant) pair, read as service_role and cached. */
interface Standing {
  userActive: boolean;
  /** Null when the user is not a member of the claimed tenant (the database grants nothing there either). */
  tenant: { status: string; plan: Plan; requestsPerMinute: number; apiCallsPerMonth: number } | null;
  expires: number;
}

const MAX_CACHED = 10_000;

/**
 * Decides, once per request and after authentication, whether the caller may be served: active
 * user, active tenant, within the tenant's, the caller's or the address's rate, and within the
 * tenant's monthly API calls. The database enforces the first two as well; here they become clear
 * refusals (FORBIDDEN, TENANT_SUSPENDED) instead of empty answers.
 */
export function createAdmission(db: Database, counter: RequestCounter, limits: RateLimits, logger: Logger) {
  const standings = new Map<string, Standing>();

  async function standingOf(userId: string, tenantId: string | undefined): Promise<Standing> {
    const key = `${userId}:${tenantId ?? ''}`;
    const cached = standings.get(key);
    if (cached && cached.expires > Date.now()) return cached;
    const row = await withClaims(db, { role: 'service_role' }, async (tx) => {
      const { rows } = await tx.query<{
        user_active: boolean | null;
        member: boolean;
        status: string | null;
        plan: Plan | null;
        rpm: unknown;
        quota: number | null;
      }>(
        `select (select u.is_active from public.users u where u.id = $1) as user_active,
                exists (select 1 from public.tenant_users tu where tu.user_id = $1 and tu.tenant_id = t.id) as member,
                t.status::text as status, t.plan::text as plan, t.max_api_calls_per_month as quota,
                (select s.value from public.tenant_settings s where s.tenant_id = t.id and s.key = 'limits.requests_per_minute') as rpm
         from (select 1) as one
         left join public.tenants t on t.id = $2`,
        [userId, tenantId ?? null],
      );
      return rows[0]!;
    });
    let tenant: Standing['tenant'] = null;
    if (row.member && row.plan && row.status) {
      const override = typeof row.rpm === 'number' && Number.isInteger(row.rpm) && row.rpm > 0 ? row.rpm : undefined;
      if (row.rpm !== null && row.rpm !== undefined && override === undefined) {
        logger.warn({ tenant: tenantId, value: row.rpm }, 'tenant setting limits.requests_per_minute is not a positive integer; using the plan default');
      }
      tenant = {
        status: row.status,
        plan: row.plan,
        requestsPerMinute: override ?? PLAN_REQUESTS_PER_MINUTE[row.plan],
        apiCallsPerMonth: row.quota ?? 0,
      };
    }
    const standing = { userActive: row.user_active !== false, tenant, expires: Date.now() + limits.cacheMs };
    if (standings.size >= MAX_CACHED) standings.delete(standings.keys().next().value!);
    standings.set(key, standing);
    return standing;
  }

  function rateLimited(scope: string, retryAfterSeconds: number) {
    return refuse(429, 'RATE_LIMITED', `too many requests for ${scope}; retry in ${retryAfterSeconds} s`, {
      'retry-after': String(retryAfterSeconds),
    });
  }

  /** Throws the refusal a request gets, or resolves when it may be served (and is then counted). */
  return async function admit(caller: Caller, clientAddress: string): Promise<void> {
    const { claims } = caller;
    if (claims.role === 'service_role') return;
    if (claims.role === 'anon' || typeof claims.sub !== 'string') {
      const decision = counter.admit([{ key: `ip:${clientAddress}`, perMinute: limits.anonymousPerMinute }]);
      if (!decision.allowed) throw rateLimited('this address', decision.retryAfterSeconds);
      return;
    }
    const tenantId = claims.app_metadata?.tenant_id;
    const standing = await standingOf(claims.sub, typeof tenantId === 'string' ? tenantId : undefined);
    if (!standing.userActive) throw refuse(403, 'FORBIDDEN', 'this account is deactivated');
    const { tenant } = standing;
    if (tenant && tenant.status !== 'ACTIVE') {
      throw refuse(403, 'TENANT_SUSPENDED', `the tenant is ${tenant.status}; nothing can be done in it until it is active again`);
    }
    const keys = [{ key: `caller:${caller.keyId ?? claims.sub}`, perMinute: limits.callerPerMinute }];
    if (tenant) keys.push({ key: `tenant:${tenantId}`, perMinute: tenant.requestsPerMinute });
    const decision = counter.admit(keys);
    if (!decision.allowed) {
      throw rateLimited(decision.refusedBy?.startsWith('tenant:') ? 'this tenant' : 'this caller', decision.retryAfterSeconds);
    }
    if (tenant) {
      const monthly = counter.admitMonthly(tenantId as string, tenant.apiCallsPerMonth);
      if (!monthly.allowed) {
        throw refuse(429, 'QUOTA_EXCEEDED', `the tenant has used its ${tenant.apiCallsPerMonth} API calls for this month`, {
          'retry-after': String(monthly.retryAfterSeconds),
        });
      }
    }
  };
}

export type Admission = ReturnType<typeof createAdmission>;
