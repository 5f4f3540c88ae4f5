import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../db/database.ts';
import { AiProviderError } from '../ai/provider.ts';
import { vectorLiteral } from '../search/ranking.ts';
import { withClaims } from '../session/claims.ts';
import type { Logger } from '../observability/logger.ts';
import { REQUEST_TABLES, type WorkerProvider } from './requests.ts';

// The worker: claims due jobs from private.jobs (20251124001500_job_queue.sql) as service_role
// and runs them. A job's outcome and its completion commit together, and only while this
// worker still holds the job's lease, so a job is never finished twice: a worker that stalls
// past its lease loses the job to another, and its late writes roll back.

export interface WorkerOptions {
  db: Database;
  provider: WorkerProvider;
  logger?: Logger;
  /** Jobs run at once (default 2). */
  concurrency?: number;
  /** How often an idle worker looks for due jobs (default 1 s). */
  pollIntervalMs?: number;
  /** How long a claimed job stays this worker's (default 300 s). */
  leaseSeconds?: number;
  /** Names this worker in the jobs it holds; default host:pid:random. */
  id?: string;
}

export interface Job {
  id: string;
  kind: string;
  payload: { table?: unknown; id?: unknown };
  attempts: number;
  max_attempts: number;
}

const SERVICE = { role: 'service_role' } as const;

/** Text an embedding is made from: the first this many characters (title and input come first). */
const EMBED_TEXT_CHARS = 8_000;

/** Each embeddable table: its text (weighted fields first) and a fingerprint of it. */
const EMBEDDABLE: Record<string, { text: string }> = {
  posts: { text: `concat_ws(E'\\n', title, excerpt, content)` },
  analyses: {
    text: `concat_ws(E'\\n', input, (select string_agg(v #>> '{}', E'\\n') from jsonb_path_query(coalesce(result, '{}'::jsonb), 'strict $.**') as v where jsonb_typeof(v) = 'string'))`,
  },
};

export class Worker {
  readonly id: string;
  private readonly db: Database;
  private readonly provider: WorkerProvider;
  private readonly logger?: Logger;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly lease: string;
  private running = new Set<Promise<void>>();
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private wake?: () => void;

  constructor(options: WorkerOptions) {
    this.db = options.db;
    this.provider = options.provider;
    this.logger = options.logger;
    this.concurrency = options.concurrency ?? 2;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.lease = `${options.leaseSeconds ?? 300} seconds`;
    this.id = options.id ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  /** Starts polling; returns at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.loop();
  }

  /** Stops claiming and waits for the jobs in hand to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    await Promise.allSettled([...this.running]);
  }

  /** Claims and runs due jobs until none is due; returns how many ran (tests and backfill). */
  async drain(): Promise<number> {
    let ran = 0;
    for (;;) {
      const jobs = await this.claim(this.concurrency);
      if (jobs.length === 0) return ran;
      await Promise.all(jobs.map((job) => this.run(job)));
      ran += jobs.length;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      let claimed = 0;
      try {
        const free = this.concurrency - this.running.size;
        if (free > 0) {
          const jobs = await this.claim(free);
          claimed = jobs.length;
          for (const job of jobs) {
            const task = this.run(job).finally(() => {
              this.running.delete(task);
              this.wake?.();
            });
            this.running.add(task);
          }
        }
      } catch (error) {
        this.logger?.warn({ err: error }, 'worker: claiming jobs failed');
      }
      if (this.stopped) break;
      // Full, or nothing was due: wait for a job to end or for the next poll.
      if (claimed === 0 || this.running.size >= this.concurrency) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, this.pollIntervalMs);
        });
        this.wake = undefined;
      }
    }
  }

  private claim(howMany: number): Promise<Job[]> {
    return withClaims(this.db, SERVICE, async (tx) => {
      const { rows } = await tx.query<Job>(
        'select id::text as id, kind, payload, attempts, max_attempts from private.claim_jobs($1, $2, $3::interval)',
        [this.id, howMany, this.lease],
      );
      return rows;
    });
  }

  /** Runs one claimed job to an end: completed, failed for a retry, or failed for good. */
  async run(job: Job): Promise<void> {
    const started = performance.now();
    try {
      if (job.attempts > job.max_attempts) {
        // Claimed again after a worker died on its last attempt: the job has had its tries.
        throw new AiProviderError(`gave up after ${job.max_attempts} attempts (the last one never finished)`, false);
      }
      if (job.kind === 'embed') await this.embed(job);
      else if (job.kind === 'run_request') await this.runRequest(job, started);
      else throw new AiProviderError(`unknown job kind ${job.kind}`, false);
      this.logger?.debug({ job: job.id, kind: job.kind, ms: Math.round(performance.now() - started) }, 'worker: job done');
    } catch (error) {
      await this.fail(job, error).catch((failure: unknown) => this.logger?.error({ err: failure, job: job.id }, 'worker: recording a failure failed'));
    }
  }

  private tableOf(job: Job, tables: Record<string, unknown>): { table: string; id: string } {
    const { table, id } = job.payload;
    if (typeof table !== 'string' || !Object.hasOwn(tables, table) || typeof id !== 'string') {
      throw new AiProviderError(`job ${job.id} names no row this worker knows (${JSON.stringify(job.payload)})`, false);
    }
    return { table, id };
  }

  /** Finishes the job in the transaction that wrote its outcome, if this worker still holds it. */
  private async complete(tx: Queryable, job: Job): Promise<void> {
    const { rows } = await tx.query<{ ok: boolean }>('select private.complete_job($1, $2) as ok', [job.id, this.id]);
    if (!rows[0]?.ok) throw new LeaseLost(job);
  }

  private async embed(job: Job): Promise<void> {
    const { table, id } = this.tableOf(job, EMBEDDABLE);
    const source = EMBEDDABLE[table]!.text;
    const row = await withClaims(this.db, SERVICE, async (tx) => {
      const { rows } = await tx.query<{ text: string; fingerprint: string }>(
        `select left(${source}, ${EMBED_TEXT_CHARS}) as text, md5(${source}) as fingerprint from public.${table} where id = $1`,
        [id],
      );
      return rows[0];
    });
    if (!row) {
      await withClaims(this.db, SERVICE, (tx) => this.complete(tx, job));
      return;
    }
    const [vector] = await this.provider.embed([row.text]);
    await withClaims(this.db, SERVICE, async (tx) => {
      // Written only if the text is still the one embedded; otherwise embed the new text next.
      const { rows } = await tx.query(
        `update public.${table} set embedding = $2::extensions.vector, embedding_model = $3
         where id = $1 and md5(${source}) = $4 returning 1`,
        [id, vector ? vectorLiteral(vector) : null, this.provider.embeddingModel, row.fingerprint],
      );
      await this.complete(tx, job);
      if (rows.length === 0) {
        await tx.query(`select private.enqueue_row_job('embed', $1, id) from public.${table} where id = $2`, [table, id]);
      }
    });
  }

  private async runRequest(job: Job, started: number): Promise<void> {
    const { table, id } = this.tableOf(job, REQUEST_TABLES);
    const request = REQUEST_TABLES[table]!;
    // PENDING -> PROCESSING, committed, so the requester sees the work start. A row already
    // PROCESSING is one a dead worker left: this one carries on with it.
    const row = await withClaims(this.db, SERVICE, async (tx) => {
      const { rows } = await tx.query<{ row: Record<string, unknown> }>(
        `update public.${table} set status = 'PROCESSING' where id = $1 and status = 'PENDING' returning to_jsonb(${table}.*) as row`,
        [id],
      );
      if (rows[0]) return rows[0].row;
      const current = await tx.query<{ row: Record<string, unknown> }>(`select to_jsonb(t.*) as row from public.${table} t where id = $1`, [id]);
      return current.rows[0]?.row;
    });
    if (!row || row.status !== 'PROCESSING') {
      // Gone, or settled by someone else (a service calling updateAnalysisStatus): nothing to do.
      await withClaims(this.db, SERVICE, (tx) => this.complete(tx, job));
      return;
    }
    const outcome = await request.run(this.provider, row);
    const processingTimeMs = Math.round(performance.now() - started);
    await withClaims(this.db, SERVICE, async (tx) => {
      await this.writeOutcome(tx, table, id, outcome.status, { ...outcome.columns, processing_time_ms: processingTimeMs });
      await this.complete(tx, job);
    });
  }

  private async writeOutcome(tx: Queryable, table: string, id: string, status: string, columns: Record<string, unknown>): Promise<void> {
    const names = Object.keys(columns);
    // Column names come from REQUEST_TABLES, never from a row or an answer.
    const assignments = names.map((name) => `${name} = (jsonb_populate_record(null::public.${table}, $3::jsonb)).${name}`);
    await tx.query(`update public.${table} set status = $2::text::${statusType(table)}${assignments.length ? ', ' : ''}${assignments.join(', ')} where id = $1`, [
      id,
      status,
      JSON.stringify(columns),
    ]);
  }

  private async fail(job: Job, error: unknown): Promise<void> {
    if (error instanceof LeaseLost) {
      this.logger?.warn({ job: job.id }, 'worker: lease ran out before the job finished; another worker has it');
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    const retryable = !(error instanceof AiProviderError) || error.retryable;
    const lastTry = !retryable || job.attempts >= job.max_attempts;
    if (error instanceof AiProviderError) {
      // An outcome the provider explained (a timeout, a type it cannot do): no stack to read.
      this.logger?.info({ job: job.id, kind: job.kind, attempt: job.attempts, retryable, reason: message }, 'worker: job failed');
    } else {
      this.logger?.warn({ job: job.id, kind: job.kind, attempt: job.attempts, retryable, err: error }, 'worker: job failed');
    }
    try {
      await withClaims(this.db, SERVICE, async (tx) => {
        const { rows } = await tx.query<{ ok: boolean }>('select private.fail_job($1, $2, $3, $4) as ok', [job.id, this.id, message, !lastTry]);
        if (!rows[0]?.ok) throw new LeaseLost(job);
        if (lastTry && job.kind === 'run_request') await this.failRequest(tx, job, message);
      });
    } catch (failure) {
      if (!(failure instanceof LeaseLost)) throw failure;
      this.logger?.warn({ job: job.id }, 'worker: lease ran out before the failure was recorded; another worker has the job');
    }
  }

  /** The request ends FAILED with its reason; the database refunds its credits (refund_failed_request). */
  private async failRequest(tx: Queryable, job: Job, reason: string): Promise<void> {
    const { table, id } = job.payload;
    if (typeof table !== 'string' || typeof id !== 'string' || !Object.hasOwn(REQUEST_TABLES, table)) return;
    const request = REQUEST_TABLES[table]!;
    const { rows } = await tx.query<{ row: Record<string, unknown> }>(`select to_jsonb(t.*) as row from public.${table} t where id = $1 for update`, [id]);
    const row = rows[0]?.row;
    if (!row || !['PENDING', 'PROCESSING'].includes(String(row.status))) return;
    // Analyses move to FAILED from PROCESSING only.
    if (row.status === 'PENDING') await tx.query(`update public.${table} set status = 'PROCESSING' where id = $1`, [id]);
    await this.writeOutcome(tx, table, id, 'FAILED', request.failure(reason, row));
  }
}

const STATUS_TYPES: Record<string, string> = {
  analyses: 'public.analysis_status',
  content_generations: 'public.generation_status',
  contract_analyses: 'public.contract_analysis_status',
  localization_analyses: 'public.localization_status',
  customer_behavior_analyses: 'public.behavior_analysis_status',
  compliance_monitoring: 'public.compliance_status',
  learning_paths: 'public.learning_path_status',
};
const statusType = (table: string) => STATUS_TYPES[table]!;

class LeaseLost extends Error {
  constructor(job: Job) {
    super(`job ${job.id}: the lease ran out`);
  }
}
