import { rm } from 'node:fs/promises';
import { loadConfig } from '../config.ts';
import { openDatabase } from '../db/open.ts';

// Wipes the embedded database and recreates it with the demo data. Refuses on a server.
const config = loadConfig();
if (config.databaseUrl) {
  console.error('db:reset only resets the embedded database; unset DATABASE_URL (it will not drop a server database).');
  process.exit(1);
}
await rm(config.dataDir, { recursive: true, force: true });
const database = await openDatabase({ ...config, loadDemoData: true });
console.log(`reset ${config.dataDir}: ${database.migrations.applied.length} migration(s), demo data loaded`);
await database.close();
