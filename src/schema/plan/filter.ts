import { getNamedType, type GraphQLInputType, isEnumType, isInputObjectType } from 'graphql';
import { ext } from './compilation.ts';
import { decline } from './sql.ts';

interface StandardSchema {
  '~standard': { validate(value: unknown): StandardResult | Promise<StandardResult> };
}
type StandardResult = { value: unknown; issues?: undefined } | { issues: readonly unknown[] };

/**
 * An input object (a list's filter, a mutation's input) as the resolver receives it, for inputs
 * whose fields are enums, booleans, date ranges and validated text: text goes through its
 * field's schema (zod, through the validation plugin) exactly as Pothos would run it, and a
 * value it refuses declines, so the resolver reports the refusal in its own words. Global ids
 * are mapped by Pothos' argument plugins, which the planner does not repeat, so an input using
 * one declines too.
 */
export async function plannableInput(type: GraphQLInputType, value: unknown): Promise<Record<string, unknown>> {
  const input = getNamedType(type);
  if (!isInputObjectType(input) || ext(input).pothosOptions?.validate) {
    return decline('input type');
  }
  const filter: Record<string, unknown> = {};
  for (const [name, fieldValue] of Object.entries(value as object)) {
    filter[name] = fieldValue;
    if (fieldValue == null) continue;
    const field = input.getFields()[name];
    const fieldType = getNamedType(field?.type);
    const validate = (field?.extensions as { pothosOptions?: { validate?: StandardSchema } } | undefined)?.pothosOptions?.validate;
    if ((isEnumType(fieldType) || fieldType?.name === 'Boolean') && !validate) continue;
    if (isInputObjectType(fieldType) && fieldType.name === 'DateRange' && !validate) continue;
    if (fieldType?.name !== 'String' || typeof validate?.['~standard']?.validate !== 'function') return decline(`input field ${name}`);
    const result = await validate['~standard'].validate(fieldValue);
    if (result.issues) return decline(`input field ${name} is invalid`);
    filter[name] = result.value;
  }
  return filter;
}
