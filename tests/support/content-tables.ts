/**
 * Every table of tenant content, with the smallest valid row besides tenant and creator.
 * The policy matrix test runs the same attacks against each of them.
 */
export interface ContentTable {
  table: string;
  ownerColumn: string;
  minimalRow: (n: number) => Record<string, unknown>;
  /** A paid request: inserting one as a member spends its price from their balance. */
  paid?: boolean;
}

export const CONTENT_TABLES: ContentTable[] = [
  { table: 'projects', ownerColumn: 'user_id', minimalRow: (n) => ({ name: `Project ${n}` }) },
  {
    table: 'analyses',
    ownerColumn: 'user_id',
    paid: true,
    minimalRow: (n) => ({ type: 'TEXT_ANALYSIS', input: `Input ${n}` }),
  },
  {
    table: 'uploads',
    ownerColumn: 'user_id',
    minimalRow: (n) => ({
      filename: `f${n}.pdf`,
      original_name: `File ${n}.pdf`,
      path: `/uploads/f${n}.pdf`,
      size_bytes: 1024,
      mime_type: 'application/pdf',
    }),
  },
  { table: 'posts', ownerColumn: 'author_id', minimalRow: (n) => ({ title: `Draft ${n}`, slug: `draft-${n}` }) },
  {
    table: 'content_generations',
    ownerColumn: 'user_id',
    paid: true,
    minimalRow: (n) => ({ type: 'TEXT', prompt: `Prompt ${n}` }),
  },
  {
    table: 'contract_analyses',
    ownerColumn: 'user_id',
    paid: true,
    minimalRow: (n) => ({ contract_title: `Contract ${n}`, contract_type: 'NDA' }),
  },
  {
    table: 'localization_analyses',
    ownerColumn: 'user_id',
    paid: true,
    minimalRow: (n) => ({ product_name: `Product ${n}`, target_market: 'JP' }),
  },
  { table: 'customer_behavior_analyses', ownerColumn: 'user_id', paid: true, minimalRow: (n) => ({ customer_segment: `S${n}` }) },
  {
    table: 'compliance_monitoring',
    ownerColumn: 'user_id',
    paid: true,
    minimalRow: () => ({ business_type: 'fintech', jurisdiction: 'EU' }),
  },
  { table: 'learning_paths', ownerColumn: 'user_id', paid: true, minimalRow: (n) => ({ metadata: { n } }) },
];
