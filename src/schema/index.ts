import { builder } from './builder.ts';
import './scalars.ts';
import './errors.ts';
import './users.ts';
import './tenants.ts';
import './invitations.ts';
import './projects.ts';
import './conversations.ts';
import './posts.ts';
import './uploads.ts';
import './business-solutions/index.ts';
import './api-keys.ts';
import './billing.ts';
import './audit.ts';
import './analyses.ts';
import './content-generations.ts';
import './viewer.ts';

export const schema = builder.toSchema({ sortSchema: true });
