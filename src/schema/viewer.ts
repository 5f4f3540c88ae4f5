import { withClaims } from '../db/claims.ts';
import { builder } from './builder.ts';

interface Viewer {
  id: string;
}

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The signed-in caller.',
  fields: (t) => ({
    id: t.exposeID('id'),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    nullable: true,
    description: 'The caller as the database sees them; null for anonymous requests.',
    resolve: async (_root, _args, { db, claims }) => {
      const { rows } = await withClaims(db, claims, (tx) => tx.query<{ id: string | null }>('select auth.uid() as id'));
      const id = rows[0]?.id;
      return id ? { id } : null;
    },
  }),
);
