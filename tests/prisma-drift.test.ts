import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import internals from '@prisma/internals';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import {
  diffPrismaAgainstDatabase,
  formatDifferences,
  readDatabaseSnapshot,
  type DatabaseSnapshot,
  type DmmfDocument,
  type DmmfField,
  type DmmfModel,
} from './support/prisma-drift.ts';

// @prisma/internals is CommonJS; Node's ESM loader exposes it as a default export only.
const { getDMMF } = internals;

const schemaText = readFileSync(fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url)), 'utf8');

let db: TestDatabase;
let dmmf: DmmfDocument;
let snapshot: DatabaseSnapshot;

beforeAll(async () => {
  [dmmf, db] = await Promise.all([getDMMF({ datamodel: schemaText }), createTestDatabase()]);
  snapshot = await readDatabaseSnapshot(db.owner);
});
afterAll(() => db?.close());

describe('prisma/schema.prisma mirrors the migrated database', () => {
  it('has every table, column, enum and foreign key, with the same nullability and types', () => {
    const differences = diffPrismaAgainstDatabase(dmmf, schemaText, snapshot);
    expect(differences, formatDifferences(differences)).toEqual([]);
  });

  it('reads a snapshot that covers the whole schema (so agreement is not vacuous)', () => {
    expect(snapshot.tables).toHaveLength(22);
    expect(snapshot.tables).toEqual(expect.arrayContaining(['tenants', 'analyses', 'audit_logs', 'compliance_monitoring']));
    expect(snapshot.enums.find((e) => e.name === 'tenant_role')?.values).toEqual(['VIEWER', 'MEMBER', 'ADMIN', 'OWNER']);
    expect(snapshot.columns.find((c) => c.table === 'posts' && c.column === 'embedding')).toMatchObject({
      dataType: 'USER-DEFINED',
      udtName: 'vector',
      nullable: true,
    });
    expect(snapshot.foreignKeys.find((fk) => fk.name === 'analyses_project_id_tenant_id_fkey')).toMatchObject({
      columns: ['project_id', 'tenant_id'],
      refTable: 'projects',
      refColumns: ['id', 'tenant_id'],
      onDelete: 'SetNull',
      onDeleteSetColumns: ['project_id'],
    });
    // users.id -> auth.users is read but not mirrored.
    expect(snapshot.foreignKeys.find((fk) => fk.table === 'users')).toMatchObject({ refSchema: 'auth', refTable: 'users' });
  });
});

describe('the drift checker', () => {
  /** Differences beyond those of the real mirror, so these tests judge only the checker. */
  function newDifferences(altered: DmmfDocument, alteredText: string, alteredSnapshot: DatabaseSnapshot): string[] {
    const baseline = new Set(diffPrismaAgainstDatabase(dmmf, schemaText, snapshot));
    return diffPrismaAgainstDatabase(altered, alteredText, alteredSnapshot).filter((line) => !baseline.has(line));
  }

  function alterModel(source: DmmfDocument, name: string, change: (model: DmmfModel) => DmmfModel | null): DmmfDocument {
    const models = source.datamodel.models.flatMap((model) => {
      if (model.name !== name) return [model];
      const changed = change(model);
      return changed ? [changed] : [];
    });
    return { datamodel: { ...source.datamodel, models } };
  }
  function alterField(model: DmmfModel, name: string, change: (field: DmmfField) => DmmfField | null): DmmfModel {
    return {
      ...model,
      fields: model.fields.flatMap((field) => {
        if (field.name !== name) return [field];
        const changed = change(field);
        return changed ? [changed] : [];
      }),
    };
  }

  it('reports every difference of a deliberately broken mirror', () => {
    let broken = dmmf;
    // A dropped field, a flipped nullability, a wrong native type.
    broken = alterModel(broken, 'Analysis', (m) => alterField(m, 'model', () => null));
    broken = alterModel(broken, 'Tenant', (m) => alterField(m, 'name', (f) => ({ ...f, isRequired: false })));
    broken = alterModel(broken, 'Analysis', (m) => alterField(m, 'confidence', (f) => ({ ...f, nativeType: null })));
    // A field for a column that does not exist.
    broken = alterModel(broken, 'Tenant', (m) => ({
      ...m,
      fields: [...m.fields, { name: 'logo', dbName: 'logo_url', kind: 'scalar', type: 'String', isRequired: false, isList: false }],
    }));
    // A dropped model, a dropped relation, a wrong onDelete.
    broken = alterModel(broken, 'AuditLog', () => null);
    broken = alterModel(broken, 'Message', (m) => alterField(m, 'conversation', () => null));
    broken = alterModel(broken, 'Upload', (m) => alterField(m, 'project', (f) => ({ ...f, relationOnDelete: 'Cascade' })));
    // Enum values out of order.
    broken = {
      datamodel: {
        ...broken.datamodel,
        enums: broken.datamodel.enums.map((e) => (e.name === 'TenantRole' ? { ...e, values: [...e.values].reverse() } : e)),
      },
    };
    // An Unsupported field (absent from the DMMF) removed from the schema text.
    const brokenText = schemaText.replace(/^model Post \{[\s\S]*?^\}/m, (block) =>
      block.replace(/^\s*embedding\s+Unsupported\(.*\n/m, ''),
    );
    expect(brokenText).not.toBe(schemaText);

    const differences = newDifferences(broken, brokenText, snapshot);
    expect(differences).toEqual(
      [
        'analyses.confidence: type expected real, got double precision (Analysis.confidence Float?)',
        'analyses.model: column in the database, but model Analysis has no field mapped to it',
        'enum tenant_role: values expected [VIEWER, MEMBER, ADMIN, OWNER], got [OWNER, ADMIN, MEMBER, VIEWER] (enum TenantRole)',
        'foreign key messages_conversation_id_tenant_id_fkey messages(conversation_id, tenant_id) -> conversations(id, tenant_id): in the database, but no relation in schema.prisma has these fields and references',
        'foreign key uploads_project_id_tenant_id_fkey uploads(project_id, tenant_id) -> projects(id, tenant_id): onDelete expected NoAction (database: SET NULL (project_id), which Prisma cannot express), got Cascade (Upload.project)',
        'posts.embedding: column in the database, but model Post has no field mapped to it',
        'table audit_logs: in the database, but no model maps to it',
        'tenants.logo_url: field Tenant.logo String? maps to it, but the database has no such column',
        'tenants.name: nullability expected NOT NULL, got nullable (Tenant.name String?)',
      ].sort(),
    );
    expect(formatDifferences(differences)).toContain('in 9 place(s)');
  });

  it('reports what the database has and the mirror lacks, and the other way round', () => {
    const altered: DatabaseSnapshot = {
      ...snapshot,
      tables: snapshot.tables.filter((t) => t !== 'learning_paths'),
      columns: snapshot.columns.map((c) =>
        c.table === 'posts' && c.column === 'embedding' ? { ...c, formattedType: 'extensions.vector(768)' } : c,
      ),
      enums: [...snapshot.enums, { name: 'mood', values: ['HAPPY'] }],
      foreignKeys: snapshot.foreignKeys.filter(
        (fk) => fk.name !== 'api_keys_tenant_id_user_id_fkey' && fk.table !== 'learning_paths',
      ),
    };
    expect(newDifferences(dmmf, schemaText, altered)).toEqual(
      [
        'enum mood: in the database, but no enum maps to it',
        'posts.embedding: type expected vector(768), got vector(384) (Post.embedding Unsupported("vector(384)")?)',
        'relation ApiKey.membership api_keys(tenant_id, user_id) -> tenant_users(tenant_id, user_id): in schema.prisma, but the database has no such foreign key',
        'table learning_paths: model LearningPath maps to it, but the database has no such table',
      ].sort(),
    );
  });
});
