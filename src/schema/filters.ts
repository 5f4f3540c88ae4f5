import { z } from 'zod';
import { builder } from './builder.ts';

export { PAGE } from './page.ts';

export const SortDirectionEnum = builder.enumType('SortDirection', { values: ['ASC', 'DESC'] as const });

export const DateRangeInput = builder.inputType('DateRange', {
  description: 'Inclusive bounds on a timestamp; either may be left out.',
  fields: (t) => ({
    from: t.field({ type: 'DateTime', required: false }),
    to: t.field({ type: 'DateTime', required: false }),
  }),
});

/** Bounded text for `contains` filters: long patterns only cost the database time. */
export const searchText = z.string().trim().min(1).max(200);

/** Prisma's where clause for a DateRange, or undefined when neither bound is set. */
export function dateRange(range: { from?: Date | null; to?: Date | null } | null | undefined) {
  if (!range || (!range.from && !range.to)) return undefined;
  return { gte: range.from ?? undefined, lte: range.to ?? undefined };
}

/** A case-insensitive substring match, for Prisma string filters. */
export function contains(text: string) {
  return { contains: text, mode: 'insensitive' as const };
}
