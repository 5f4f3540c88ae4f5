import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import type { PrismaClient } from '../../src/db/prisma.ts';
import { createGateway } from '../../src/server/yoga.ts';

describe('GET /readyz', () => {
  it('answers 503 without the driver’s message when the database does not answer', async () => {
    const down: Database = {
      kind: 'postgres',
      query: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.5:5432 as postgres')),
      exec: () => Promise.reject(new Error('down')),
      transaction: () => Promise.reject(new Error('down')),
      close: async () => {},
    };
    const gateway = createGateway({
      db: down,
      prisma: {} as PrismaClient,
      verifyToken: () => Promise.reject(new Error('unused')),
    });
    const response = await gateway.fetch('http://gateway.test/readyz');
    expect(response.status).toBe(503);
    expect(await response.text()).not.toContain('10.0.0.5');
  });
});
