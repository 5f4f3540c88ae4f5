import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/open.ts';
import { createProvider } from '../ai/index.ts';
import { queueBackfill } from '../worker/backfill.ts';
import { Worker } from '../worker/worker.ts';

// `npm run embeddings:backfill [-- --enqueue-only]`: queues an embedding for every post and
// analysis that has none from the configured model (rows from before the worker existed, or
// after a change of model), then runs the due jobs here, unless told to leave them to the
// running workers. Safe to repeat: a row already queued is not queued twice.
const enqueueOnly = process.argv.includes('--enqueue-only');
const config = loadConfig();
const database = await openDatabase({ ...config, loadDemoData: false });
const provider = createProvider(config.ai);
try {
  const queued = await queueBackfill(database.gateway, provider.embeddingModel);
  console.log(`queued for ${provider.embeddingModel}: ${queued.posts} post(s), ${queued.analyses} analysis(es)`);
  if (!enqueueOnly) {
    const started = performance.now();
    const ran = await new Worker({ db: database.gateway, provider, concurrency: 4 }).drain();
    console.log(`ran ${ran} due job(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
} finally {
  await database.close();
}
