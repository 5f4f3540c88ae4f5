/**
 * Compares prisma/schema.prisma with the database the migrations create.
 *
 * `readDatabaseSnapshot` reads schema `public` of a migrated database; the pure
 * `diffPrismaAgainstDatabase` compares that snapshot with the schema's DMMF (from
 * `getDMMF` of @prisma/internals) and returns one line per difference. The database is
 * the truth (the migrations own it), so every line reads "expected <database>, got <schema.prisma>".
 */
import type { Queryable } from '../../src/db/database.ts';

// ---------------------------------------------------------------------------
// The parts of Prisma's DMMF the comparison reads (DMMF.Document satisfies these).
// ---------------------------------------------------------------------------

export interface DmmfField {
  readonly name: string;
  readonly dbName?: string | null;
  readonly kind: string;
  readonly type: string;
  readonly isRequired: boolean;
  readonly isList: boolean;
  readonly nativeType?: readonly [string, readonly string[]] | null;
  readonly relationFromFields?: readonly string[];
  readonly relationToFields?: readonly string[];
  readonly relationOnDelete?: string;
  readonly relationOnUpdate?: string;
}

export interface DmmfModel {
  readonly name: string;
  readonly dbName: string | null;
  readonly fields: readonly DmmfField[];
}

export interface DmmfEnum {
  readonly name: string;
  readonly dbName?: string | null;
  readonly values: readonly { readonly name: string; readonly dbName?: string | null }[];
}

export interface DmmfDocument {
  readonly datamodel: {
    readonly models: readonly DmmfModel[];
    readonly enums: readonly DmmfEnum[];
  };
}

// ---------------------------------------------------------------------------
// What the database says.
// ---------------------------------------------------------------------------

/** Prisma's names for referential actions, so both sides compare directly. */
export type ReferentialAction = 'NoAction' | 'Restrict' | 'Cascade' | 'SetNull' | 'SetDefault';

export interface DbColumn {
  table: string;
  column: string;
  nullable: boolean;
  /** information_schema.columns.data_type, e.g. `uuid`, `USER-DEFINED`. */
  dataType: string;
  udtName: string;
  datetimePrecision: number | null;
  characterMaximumLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  /** format_type() of the column, e.g. `extensions.vector(384)`. */
  formattedType: string;
}

export interface DbEnum {
  name: string;
  /** In enumsortorder. */
  values: string[];
}

export interface DbForeignKey {
  name: string;
  table: string;
  columns: string[];
  refSchema: string;
  refTable: string;
  refColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
  /** `on delete set null (col, ...)`: the only columns the action sets; null when it sets all. */
  onDeleteSetColumns: string[] | null;
}

export interface DatabaseSnapshot {
  tables: string[];
  columns: DbColumn[];
  enums: DbEnum[];
  foreignKeys: DbForeignKey[];
}

const ACTIONS: Record<string, ReferentialAction> = {
  a: 'NoAction',
  r: 'Restrict',
  c: 'Cascade',
  n: 'SetNull',
  d: 'SetDefault',
};

function toAction(code: string): ReferentialAction {
  const action = ACTIONS[code];
  if (!action) throw new Error(`unknown referential action code ${JSON.stringify(code)}`);
  return action;
}

function toNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

/** Reads tables, columns, enums and foreign keys of schema `public`. Run it as the tables' owner. */
export async function readDatabaseSnapshot(db: Queryable): Promise<DatabaseSnapshot> {
  const tables = await db.query<{ name: string }>(
    `select table_name as name from information_schema.tables
     where table_schema = 'public' and table_type = 'BASE TABLE'
     order by table_name`,
  );
  const tableNames = new Set(tables.rows.map((row) => row.name));

  const columns = await db.query<{
    table_name: string;
    column_name: string;
    is_nullable: string;
    data_type: string;
    udt_name: string;
    datetime_precision: unknown;
    character_maximum_length: unknown;
    numeric_precision: unknown;
    numeric_scale: unknown;
    formatted_type: string;
  }>(
    `select c.table_name, c.column_name, c.is_nullable, c.data_type, c.udt_name,
            c.datetime_precision, c.character_maximum_length, c.numeric_precision, c.numeric_scale,
            format_type(a.atttypid, a.atttypmod) as formatted_type
     from information_schema.columns c
     join pg_catalog.pg_attribute a
       on a.attrelid = format('%I.%I', c.table_schema, c.table_name)::regclass
      and a.attname = c.column_name
     where c.table_schema = 'public'
     order by c.table_name, c.ordinal_position`,
  );

  const enumRows = await db.query<{ name: string; value: string }>(
    `select t.typname as name, e.enumlabel as value
     from pg_catalog.pg_type t
     join pg_catalog.pg_namespace n on n.oid = t.typnamespace
     join pg_catalog.pg_enum e on e.enumtypid = t.oid
     where n.nspname = 'public'
     order by t.typname, e.enumsortorder`,
  );
  const enums = new Map<string, string[]>();
  for (const row of enumRows.rows) {
    const values = enums.get(row.name) ?? [];
    values.push(row.value);
    enums.set(row.name, values);
  }

  const foreignKeys = await db.query<{
    name: string;
    table_name: string;
    ref_schema: string;
    ref_table: string;
    columns: string[];
    ref_columns: string[];
    on_delete: string;
    on_update: string;
    definition: string;
  }>(
    `select con.conname::text as name, src.relname::text as table_name,
            ref_ns.nspname::text as ref_schema, ref.relname::text as ref_table,
            array(select a.attname::text
                  from unnest(con.conkey) with ordinality as k(attnum, i)
                  join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.attnum
                  order by k.i) as columns,
            array(select a.attname::text
                  from unnest(con.confkey) with ordinality as k(attnum, i)
                  join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.attnum
                  order by k.i) as ref_columns,
            con.confdeltype::text as on_delete, con.confupdtype::text as on_update,
            pg_get_constraintdef(con.oid) as definition
     from pg_catalog.pg_constraint con
     join pg_catalog.pg_class src on src.oid = con.conrelid
     join pg_catalog.pg_namespace ns on ns.oid = src.relnamespace
     join pg_catalog.pg_class ref on ref.oid = con.confrelid
     join pg_catalog.pg_namespace ref_ns on ref_ns.oid = ref.relnamespace
     where con.contype = 'f' and ns.nspname = 'public'
     order by src.relname, con.conname`,
  );

  return {
    tables: [...tableNames],
    columns: columns.rows
      .filter((row) => tableNames.has(row.table_name))
      .map((row) => ({
        table: row.table_name,
        column: row.column_name,
        nullable: row.is_nullable === 'YES',
        dataType: row.data_type,
        udtName: row.udt_name,
        datetimePrecision: toNumber(row.datetime_precision),
        characterMaximumLength: toNumber(row.character_maximum_length),
        numericPrecision: toNumber(row.numeric_precision),
        numericScale: toNumber(row.numeric_scale),
        formattedType: row.formatted_type,
      })),
    enums: [...enums].map(([name, values]) => ({ name, values })),
    foreignKeys: foreignKeys.rows.map((row) => {
      // pg_get_constraintdef is the portable way to see a column list (confdelsetcols is PG 15+).
      const setColumns = /ON DELETE SET (?:NULL|DEFAULT) \(([^)]*)\)/i.exec(row.definition)?.[1];
      return {
        name: row.name,
        table: row.table_name,
        columns: row.columns,
        refSchema: row.ref_schema,
        refTable: row.ref_table,
        refColumns: row.ref_columns,
        onDelete: toAction(row.on_delete),
        onUpdate: toAction(row.on_update),
        onDeleteSetColumns: setColumns === undefined ? null : setColumns.split(',').map(unquoteIdentifier),
      };
    }),
  };
}

function unquoteIdentifier(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('"') ? trimmed.slice(1, -1).replaceAll('""', '"') : trimmed;
}

// ---------------------------------------------------------------------------
// Unsupported fields: the DMMF leaves them out, so they are read from the schema text.
// ---------------------------------------------------------------------------

export interface UnsupportedField {
  model: string;
  field: string;
  /** The text inside Unsupported("..."), e.g. `vector(384)`. */
  type: string;
  isRequired: boolean;
  isList: boolean;
  column: string;
}

export function parseUnsupportedFields(schemaText: string): UnsupportedField[] {
  const fields: UnsupportedField[] = [];
  for (const block of schemaText.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)) {
    const model = block[1]!;
    for (const line of block[2]!.split('\n')) {
      const match = /^\s*(\w+)\s+Unsupported\(\s*"([^"]+)"\s*\)(\[\])?(\?)?(.*)$/.exec(line);
      if (!match) continue;
      const map = /@map\(\s*(?:name:\s*)?"([^"]+)"\s*\)/.exec(match[5]!.replace(/\/\/.*$/, ''));
      fields.push({
        model,
        field: match[1]!,
        type: match[2]!,
        isList: match[3] !== undefined,
        isRequired: match[4] === undefined,
        column: map?.[1] ?? match[1]!,
      });
    }
  }
  return fields;
}

// ---------------------------------------------------------------------------
// Types, described the same way on both sides.
// ---------------------------------------------------------------------------

/** The database type of a column, e.g. `uuid`, `timestamp(6) with time zone`, `USER-DEFINED vector(384)`. */
export function describeColumnType(column: DbColumn): string {
  const { dataType } = column;
  if (dataType === 'USER-DEFINED') {
    const modifier = /\([^)]*\)$/.exec(column.formattedType)?.[0] ?? '';
    return `USER-DEFINED ${column.udtName}${modifier}`;
  }
  if (dataType === 'ARRAY') return column.formattedType.replace(/^(?:"[^"]+"|\w+)\./, '');
  if (/^(timestamp|time) with(out)? time zone$/.test(dataType) && column.datetimePrecision !== null) {
    return dataType.replace(/^(timestamp|time)/, `$1(${column.datetimePrecision})`);
  }
  if ((dataType === 'character varying' || dataType === 'character') && column.characterMaximumLength !== null) {
    return `${dataType}(${column.characterMaximumLength})`;
  }
  if (dataType === 'numeric' && column.numericPrecision !== null) {
    return `numeric(${column.numericPrecision},${column.numericScale ?? 0})`;
  }
  return dataType;
}

/** Postgres type of a Prisma native type attribute (`@db.X(args)`). */
const NATIVE_TYPES: Record<string, (args: readonly string[]) => string> = {
  Uuid: () => 'uuid',
  Text: () => 'text',
  VarChar: (args) => (args[0] ? `character varying(${args[0]})` : 'character varying'),
  Char: (args) => `character(${args[0] ?? 1})`,
  Timestamptz: (args) => `timestamp(${args[0] ?? 6}) with time zone`,
  Timestamp: (args) => `timestamp(${args[0] ?? 6}) without time zone`,
  Timetz: (args) => `time(${args[0] ?? 6}) with time zone`,
  Time: (args) => `time(${args[0] ?? 6}) without time zone`,
  Date: () => 'date',
  Integer: () => 'integer',
  SmallInt: () => 'smallint',
  BigInt: () => 'bigint',
  Oid: () => 'oid',
  Real: () => 'real',
  DoublePrecision: () => 'double precision',
  Decimal: (args) => (args.length > 0 ? `numeric(${args[0]},${args[1] ?? 0})` : 'numeric'),
  Money: () => 'money',
  Boolean: () => 'boolean',
  JsonB: () => 'jsonb',
  Json: () => 'json',
  ByteA: () => 'bytea',
  Inet: () => 'inet',
  Xml: () => 'xml',
  Citext: () => 'USER-DEFINED citext',
};

/** Postgres type of a Prisma scalar without a native type attribute. */
const DEFAULT_TYPES: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  Boolean: 'boolean',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

export function describeFieldType(field: DmmfField, enumDbNames: ReadonlyMap<string, string>): string {
  let base: string;
  if (field.kind === 'enum') {
    base = `USER-DEFINED ${enumDbNames.get(field.type) ?? field.type}`;
  } else if (field.nativeType) {
    const [name, args] = field.nativeType;
    base = NATIVE_TYPES[name]?.(args) ?? `unknown native type @db.${name}`;
  } else {
    base = DEFAULT_TYPES[field.type] ?? `unknown Prisma type ${field.type}`;
  }
  return field.isList ? `${base.replace(/^USER-DEFINED /, '')}[]` : base;
}

/** An Unsupported("...") type as format_type() prints it, without a schema: `vector(384)`. */
function normalizeTypeText(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/\s*([(),])\s*/g, '$1')
    .replace(/,/g, ', ')
    .replace(/^(?:"[^"]+"|\w+)\.(?=[a-z_"])/, '');
}

// ---------------------------------------------------------------------------
// The comparison.
// ---------------------------------------------------------------------------

interface PrismaColumn {
  column: string;
  /** How to find it in schema.prisma, e.g. `Analysis.confidence Float?`. */
  label: string;
  nullable: boolean;
  type: string;
  /** Unsupported("...") fields compare with format_type(), the only place a vector's size shows. */
  unsupported: boolean;
}

interface PrismaForeignKey {
  label: string;
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: ReferentialAction;
  onUpdate: ReferentialAction;
}

function tableOf(model: DmmfModel): string {
  return model.dbName ?? model.name;
}

function columnOf(field: DmmfField): string {
  return field.dbName ?? field.name;
}

function list(values: readonly string[]): string {
  return `[${values.join(', ')}]`;
}

/** Pairs sorted by referencing column, so `(a, b) -> (x, y)` and `(b, a) -> (y, x)` are one key. */
function foreignKeyKey(table: string, columns: readonly string[], refTable: string, refColumns: readonly string[]): string {
  const pairs = columns.map((column, i) => [column, refColumns[i] ?? '?'] as const).sort(([a], [b]) => a.localeCompare(b));
  return `${table}(${pairs.map(([c]) => c).join(', ')}) -> ${refTable}(${pairs.map(([, r]) => r).join(', ')})`;
}

/** What schema.prisma must say for a database action, and why when it is not the obvious one. */
function expectedPrismaOnDelete(fk: DbForeignKey): { action: ReferentialAction; note: string } {
  if (fk.onDelete === 'SetNull' && fk.onDeleteSetColumns) {
    const setsAll = fk.columns.every((column) => fk.onDeleteSetColumns!.includes(column));
    if (!setsAll) {
      // Prisma has no column-list SET NULL and rejects SetNull while another key column is
      // required; the schema says NoAction and documents what the database does.
      return { action: 'NoAction', note: ` (database: SET NULL (${fk.onDeleteSetColumns.join(', ')}), which Prisma cannot express)` };
    }
  }
  return { action: fk.onDelete, note: '' };
}

/**
 * Every difference between the Prisma schema and the database snapshot, sorted; empty when
 * they agree. Compares tables, columns (presence, nullability, type), enums (values in order)
 * and foreign keys (columns, referenced table and columns, ON DELETE / ON UPDATE). Foreign
 * keys to tables outside `public` (users.id -> auth.users) are not mirrored and are skipped.
 */
export function diffPrismaAgainstDatabase(dmmf: DmmfDocument, schemaText: string, db: DatabaseSnapshot): string[] {
  const differences: string[] = [];
  const { models, enums } = dmmf.datamodel;

  const enumDbNames = new Map(enums.map((e) => [e.name, e.dbName ?? e.name]));
  const modelsByTable = new Map<string, DmmfModel>();
  for (const model of models) {
    const other = modelsByTable.get(tableOf(model));
    if (other) differences.push(`table ${tableOf(model)}: mapped by two models, ${other.name} and ${model.name}`);
    else modelsByTable.set(tableOf(model), model);
  }
  const modelsByName = new Map(models.map((model) => [model.name, model]));
  const unsupported = parseUnsupportedFields(schemaText);

  // (a) tables
  const dbTables = new Set(db.tables);
  for (const table of db.tables) {
    if (!modelsByTable.has(table)) differences.push(`table ${table}: in the database, but no model maps to it`);
  }
  for (const [table, model] of modelsByTable) {
    if (!dbTables.has(table)) differences.push(`table ${table}: model ${model.name} maps to it, but the database has no such table`);
  }

  // (b), (c), (d) columns
  const dbColumnsByTable = new Map<string, DbColumn[]>();
  for (const column of db.columns) {
    const columns = dbColumnsByTable.get(column.table) ?? [];
    columns.push(column);
    dbColumnsByTable.set(column.table, columns);
  }
  for (const [table, model] of modelsByTable) {
    if (!dbTables.has(table)) continue;
    const prismaColumns = new Map<string, PrismaColumn>();
    for (const field of model.fields) {
      if (field.kind !== 'scalar' && field.kind !== 'enum') continue;
      prismaColumns.set(columnOf(field), {
        column: columnOf(field),
        label: `${model.name}.${field.name} ${field.type}${field.isList ? '[]' : ''}${field.isRequired || field.isList ? '' : '?'}`,
        nullable: !field.isRequired,
        type: describeFieldType(field, enumDbNames),
        unsupported: false,
      });
    }
    for (const field of unsupported) {
      if (field.model !== model.name || prismaColumns.has(field.column)) continue;
      prismaColumns.set(field.column, {
        column: field.column,
        label: `${model.name}.${field.field} Unsupported("${field.type}")${field.isList ? '[]' : ''}${field.isRequired ? '' : '?'}`,
        nullable: !field.isRequired,
        type: `${normalizeTypeText(field.type)}${field.isList ? '[]' : ''}`,
        unsupported: true,
      });
    }

    const dbColumns = dbColumnsByTable.get(table) ?? [];
    const dbColumnNames = new Set(dbColumns.map((column) => column.column));
    for (const column of dbColumns) {
      const mirror = prismaColumns.get(column.column);
      if (!mirror) {
        differences.push(`${table}.${column.column}: column in the database, but model ${model.name} has no field mapped to it`);
        continue;
      }
      const expectedNullability = column.nullable ? 'nullable' : 'NOT NULL';
      const gotNullability = mirror.nullable ? 'nullable' : 'NOT NULL';
      if (expectedNullability !== gotNullability) {
        differences.push(`${table}.${column.column}: nullability expected ${expectedNullability}, got ${gotNullability} (${mirror.label})`);
      }
      const expectedType = mirror.unsupported ? normalizeTypeText(column.formattedType) : describeColumnType(column);
      if (expectedType !== mirror.type) {
        differences.push(`${table}.${column.column}: type expected ${expectedType}, got ${mirror.type} (${mirror.label})`);
      }
    }
    for (const mirror of prismaColumns.values()) {
      if (!dbColumnNames.has(mirror.column)) {
        differences.push(`${table}.${mirror.column}: field ${mirror.label} maps to it, but the database has no such column`);
      }
    }
  }

  // (e) enums
  const prismaEnums = new Map(enums.map((e) => [e.dbName ?? e.name, e]));
  const dbEnums = new Map(db.enums.map((e) => [e.name, e]));
  for (const dbEnum of db.enums) {
    const mirror = prismaEnums.get(dbEnum.name);
    if (!mirror) {
      differences.push(`enum ${dbEnum.name}: in the database, but no enum maps to it`);
      continue;
    }
    const values = mirror.values.map((value) => value.dbName ?? value.name);
    if (list(values) !== list(dbEnum.values)) {
      differences.push(`enum ${dbEnum.name}: values expected ${list(dbEnum.values)}, got ${list(values)} (enum ${mirror.name})`);
    }
  }
  for (const [name, mirror] of prismaEnums) {
    if (!dbEnums.has(name)) differences.push(`enum ${name}: enum ${mirror.name} maps to it, but the database has no such type`);
  }

  // (f) foreign keys
  const prismaForeignKeys = new Map<string, PrismaForeignKey>();
  for (const model of models) {
    const fieldsByName = new Map(model.fields.map((field) => [field.name, field]));
    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
      const target = modelsByName.get(field.type);
      const targetFields = new Map(target?.fields.map((f) => [f.name, f]) ?? []);
      const columns = field.relationFromFields.map((name) => columnOf(fieldsByName.get(name) ?? { name } as DmmfField));
      const refColumns = (field.relationToFields ?? []).map((name) => columnOf(targetFields.get(name) ?? { name } as DmmfField));
      const refTable = target ? tableOf(target) : field.type;
      const fk: PrismaForeignKey = {
        label: `${model.name}.${field.name}`,
        table: tableOf(model),
        columns,
        refTable,
        refColumns,
        // Prisma's defaults when the schema names no action.
        onDelete: (field.relationOnDelete as ReferentialAction | undefined) ?? (field.isRequired ? 'Restrict' : 'SetNull'),
        onUpdate: (field.relationOnUpdate as ReferentialAction | undefined) ?? 'Cascade',
      };
      prismaForeignKeys.set(foreignKeyKey(fk.table, columns, refTable, refColumns), fk);
    }
  }
  const dbForeignKeys = new Set<string>();
  for (const fk of db.foreignKeys) {
    if (fk.refSchema !== 'public') continue;
    const key = foreignKeyKey(fk.table, fk.columns, fk.refTable, fk.refColumns);
    dbForeignKeys.add(key);
    const mirror = prismaForeignKeys.get(key);
    if (!mirror) {
      // A table with no model is reported above; its keys would only repeat that.
      if (!modelsByTable.has(fk.table)) continue;
      differences.push(`foreign key ${fk.name} ${key}: in the database, but no relation in schema.prisma has these fields and references`);
      continue;
    }
    const onDelete = expectedPrismaOnDelete(fk);
    if (onDelete.action !== mirror.onDelete) {
      differences.push(`foreign key ${fk.name} ${key}: onDelete expected ${onDelete.action}${onDelete.note}, got ${mirror.onDelete} (${mirror.label})`);
    }
    if (fk.onUpdate !== mirror.onUpdate) {
      differences.push(`foreign key ${fk.name} ${key}: onUpdate expected ${fk.onUpdate}, got ${mirror.onUpdate} (${mirror.label})`);
    }
  }
  for (const [key, mirror] of prismaForeignKeys) {
    if (!dbForeignKeys.has(key) && dbTables.has(mirror.table)) {
      differences.push(`relation ${mirror.label} ${key}: in schema.prisma, but the database has no such foreign key`);
    }
  }

  return differences.sort();
}

/** A failure message that lists every difference, one per line. */
export function formatDifferences(differences: readonly string[]): string {
  return [
    `prisma/schema.prisma differs from the migrated database in ${differences.length} place(s)`,
    '(expected = database, got = schema.prisma):',
    ...differences.map((line) => `  - ${line}`),
  ].join('\n');
}
