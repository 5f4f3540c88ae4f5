import { encodeGlobalID } from '@pothos/plugin-relay';
import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from './builder.ts';
import { AnalysisRef } from './analyses.ts';
import { ContentGenerationRef } from './content-generations.ts';
import { ComplianceMonitoringRef } from './business-solutions/compliance-monitoring.ts';
import { ContractAnalysisRef } from './business-solutions/contract-analyses.ts';
import { CustomerBehaviorAnalysisRef } from './business-solutions/customer-behavior-analyses.ts';
import { LearningPathRef } from './business-solutions/learning-paths.ts';
import { LocalizationAnalysisRef } from './business-solutions/localization-analyses.ts';
import { UploadRef } from './uploads.ts';
import { ProjectRef } from './projects.ts';
import { DomainError } from '../errors.ts';
import { getDatamodel } from '../generated/pothos-types.ts';
import type { Delivery } from '../realtime/hub.ts';
import type { LifecycleTable } from '../realtime/lifecycle-rows.ts';
import { EventQueue } from '../realtime/event-queue.ts';

/** Events a subscriber may leave waiting before it is ended as too slow. */
const MAX_QUEUED_EVENTS = 1000;

// Subscriptions: realtime status changes of the rows with a lifecycle, over Server-Sent Events
// and WebSocket alike. What reaches a subscriber is decided by src/realtime/hub.ts: the
// changes of its own tenant, each read once under row-level security for all of its members.

const KINDS = {
  ANALYSIS: { table: 'analyses', model: 'Analysis', ref: AnalysisRef },
  CONTENT_GENERATION: { table: 'content_generations', model: 'ContentGeneration', ref: ContentGenerationRef },
  CONTRACT_ANALYSIS: { table: 'contract_analyses', model: 'ContractAnalysis', ref: ContractAnalysisRef },
  LOCALIZATION_ANALYSIS: { table: 'localization_analyses', model: 'LocalizationAnalysis', ref: LocalizationAnalysisRef },
  CUSTOMER_BEHAVIOR_ANALYSIS: { table: 'customer_behavior_analyses', model: 'CustomerBehaviorAnalysis', ref: CustomerBehaviorAnalysisRef },
  COMPLIANCE_MONITORING: { table: 'compliance_monitoring', model: 'ComplianceMonitoring', ref: ComplianceMonitoringRef },
  LEARNING_PATH: { table: 'learning_paths', model: 'LearningPath', ref: LearningPathRef },
  UPLOAD: { table: 'uploads', model: 'Upload', ref: UploadRef },
} as const satisfies Record<string, { table: LifecycleTable; model: string; ref: unknown }>;
type StatusKind = keyof typeof KINDS;
const KIND_OF_TABLE = new Map(Object.entries(KINDS).map(([kind, { table }]) => [table as string, kind as StatusKind]));

const StatusKindEnum = builder.enumType('StatusKind', {
  description: 'The kinds of rows with a lifecycle, whose changes `statusChanged` delivers.',
  values: Object.keys(KINDS) as StatusKind[],
});

const ChangeOperationEnum = builder.enumType('ChangeOperation', {
  values: {
    INSERT: { description: 'The row was created.' },
    UPDATE: { description: 'Its status changed.' },
    DELETE: { description: 'The row was deleted; `node` is null.' },
  },
});

/** The row of a change as Prisma would have returned it, for the node's fields to resolve from. */
interface StatusChangeEvent {
  kind: StatusKind;
  delivery: Delivery;
  node: Record<string, unknown> | null;
}

const nodeKinds = new WeakMap<object, StatusKind>();

/**
 * One event object per change, whichever subscriber of the tenant receives it: its node is
 * built once, and src/realtime/shared-results.ts can execute it once per operation.
 */
const sharedEvents = new WeakMap<Delivery, StatusChangeEvent>();
function eventOf(kind: StatusKind, delivery: Delivery): StatusChangeEvent {
  let event = sharedEvents.get(delivery);
  if (!event) sharedEvents.set(delivery, (event = { kind, delivery, node: delivery.row && toModel(kind, delivery.row) }));
  return event;
}

const StatusChangeNode = builder.unionType('StatusChangeNode', {
  types: Object.values(KINDS).map(({ ref }) => ref),
  resolveType: (node) => KINDS[nodeKinds.get(node)!].ref,
});

const StatusChange = builder.objectRef<StatusChangeEvent>('StatusChange').implement({
  description: 'A row with a lifecycle was created, changed status, or was deleted.',
  fields: (t) => ({
    kind: t.field({ type: StatusKindEnum, resolve: (event) => event.kind }),
    operation: t.field({ type: ChangeOperationEnum, resolve: (event) => event.delivery.change.op }),
    id: t.id({
      description: 'The global id of the row, as `node(id:)` takes it.',
      resolve: (event) => encodeGlobalID(KINDS[event.kind].model, event.delivery.change.id),
    }),
    status: t.string({ nullable: true, description: 'The status after the change; null for a deletion.', resolve: (event) => event.delivery.change.status }),
    previousStatus: t.string({
      nullable: true,
      description: 'The status before the change; null for a creation.',
      resolve: (event) => event.delivery.change.previous,
    }),
    at: t.field({ type: 'DateTime', description: 'When the change was made.', resolve: (event) => new Date(event.delivery.change.at) }),
    node: t.field({
      type: StatusChangeNode,
      nullable: true,
      description:
        'The row after the change, as you may read it; null for a deletion. Its own fields come from the one read the ' +
        'gateway makes per change for all subscribers of the tenant; selecting its relations reads them for you alone.',
      resolve: (event, _args, ctx, info) => {
        if (!event.node) return null;
        const { model } = KINDS[event.kind];
        // Planning the selection tells Pothos the row it resolves from holds these fields.
        const query = queryFromInfo({ context: ctx, info, typeName: model }) as { select?: Record<string, unknown> };
        const node = event.node;
        if (query.select && Object.entries(query.select).every(([field, wanted]) => wanted === true && field in node)) {
          return node as never;
        }
        // Relations (or counts) were asked for: read them as this subscriber, in the event's own transaction.
        const delegate = (ctx.prisma as unknown as Record<string, { findUnique(args: object): Promise<object | null> }>)[
          model[0]!.toLowerCase() + model.slice(1)
        ]!;
        return delegate.findUnique({ ...query, where: { id: event.delivery.change.id } }).then((row) => {
          if (row) nodeKinds.set(row, event.kind);
          return row as never;
        });
      },
    }),
  }),
});

builder.subscriptionType({});

builder.subscriptionField('statusChanged', (t) =>
  t.field({
    type: StatusChange,
    description:
      'Every creation, status change and deletion of the active tenant\'s rows with a lifecycle (analyses, content ' +
      'generations, business solutions, uploads), as it is committed. Ends with UNAUTHENTICATED when the token expires, ' +
      'FORBIDDEN when your membership is removed, TENANT_SUSPENDED when the tenant is suspended.',
    authScopes: { signedIn: true },
    args: {
      kinds: t.arg({ type: [StatusKindEnum], required: false, description: 'Only these kinds (default: all).' }),
      projectId: t.arg.globalID({ for: ProjectRef, required: false, description: 'Only rows of this project.' }),
    },
    subscribe: async (_root, args, ctx) => {
      const hub = ctx.realtime;
      if (!hub) throw new DomainError('INTERNAL', 'subscriptions are not served by this gateway');
      const kinds = args.kinds?.length ? new Set(args.kinds) : undefined;
      const projectId = args.projectId?.id;
      let leave = () => {};
      const events = new EventQueue<StatusChangeEvent | DomainError>({
        limit: MAX_QUEUED_EVENTS,
        overflow: () =>
          new DomainError('SUBSCRIBER_TOO_SLOW', `more than ${MAX_QUEUED_EVENTS} changes were waiting for you; subscribe again and re-read`),
        onClose: () => leave(),
      });
      // Authorised before anything is returned: a refusal is the operation's error, not a broken stream.
      const subscription = await hub.subscribe({
        claims: ctx.claims,
        onChange: (delivery) => {
          const kind = KIND_OF_TABLE.get(delivery.change.table)!;
          if (kinds && !kinds.has(kind)) return;
          if (projectId && delivery.change.project !== projectId) return;
          events.push(eventOf(kind, delivery));
        },
        // The subscriber is told why, as the last event, then the stream completes.
        onEnd: (error) => {
          events.push(error);
          events.end();
        },
      });
      leave = () => subscription.close();
      return events;
    },
    resolve: (event) => {
      if (event instanceof DomainError) throw event;
      return event;
    },
  }),
);

const datamodel = getDatamodel().datamodel.models as unknown as Record<
  string,
  { fields: { name: string; kind: string; type: string }[] }
>;
const snakeCase = (name: string) => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

/** The JSON row (snake_case columns, timestamps as text) as the Prisma model's object. */
function toModel(kind: StatusKind, row: Record<string, unknown>): Record<string, unknown> {
  const node: Record<string, unknown> = {};
  for (const field of datamodel[KINDS[kind].model]!.fields) {
    if (field.kind !== 'scalar' && field.kind !== 'enum') continue;
    const column = snakeCase(field.name);
    if (!(column in row)) continue;
    const value = row[column];
    node[field.name] =
      value === null || value === undefined
        ? null
        : field.type === 'DateTime'
          ? new Date(value as string)
          : field.type === 'BigInt'
            ? BigInt(value as number | string)
            : value;
  }
  nodeKinds.set(node, kind);
  return node;
}
