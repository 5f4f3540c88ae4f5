import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/open.ts';

// Applies pending migrations (and demo data where configured) without serving.
const database = await openDatabase(loadConfig());
console.log(`${database.describe}: applied ${database.migrations.applied.length} migration(s)`);
for (const name of database.migrations.applied) console.log(`  ${name}`);
await database.close();
