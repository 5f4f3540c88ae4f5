import { builder } from './builder.ts';
import './scalars.ts';
import './errors.ts';
import './users.ts';
import './tenants.ts';
import './projects.ts';
import './viewer.ts';

export const schema = builder.toSchema({ sortSchema: true });
