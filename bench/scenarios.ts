/** What the benchmark drives: a nested read, a filtered list, and a write. */
export interface Scenario {
  name: string;
  query: string;
  variables?: () => Record<string, unknown>;
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'nested read',
    query: `{ projects(first: 20) { edges { node { name owner { name }
      analyses(first: 5) { edges { node { status requestedBy { name } } } } } } } }`,
  },
  {
    name: 'filtered list',
    query: `{ projects(first: 20, filter: { status: [ACTIVE], search: "a" }, orderBy: NAME, direction: ASC) {
      totalCount edges { node { id name status createdAt } } } }`,
  },
  {
    name: 'mutation',
    query: 'mutation ($name: String) { updateProfile(input: { name: $name }) { __typename } }',
    variables: () => ({ name: `Admin ${Math.random().toString(36).slice(2, 8)}` }),
  },
];
