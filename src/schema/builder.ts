import SchemaBuilder from '@pothos/core';
import type { GatewayContext } from '../context.ts';

export const builder = new SchemaBuilder<{ Context: GatewayContext }>({});

builder.queryType({});
