import { builder } from './builder.ts';
import './viewer.ts';

export const schema = builder.toSchema();
