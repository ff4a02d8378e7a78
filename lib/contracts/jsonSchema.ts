import { type ConversionConfig, type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import type * as v from 'valibot';

export type { JsonSchema };

/** Clauses that say in JSON Schema what a contract's own `v.check`s say in code, keyed by the check's message. */
export type CheckRules = Readonly<Record<string, JsonSchema>>;

const present = (fields: readonly string[]) => fields.map((field) => ({ required: [field] }));

/** Exactly one of the fields is given. */
export const exactlyOneOf = (fields: readonly string[]): JsonSchema => ({ oneOf: present(fields) });

/** At least one of the fields is given. */
export const anyOf = (fields: readonly string[]): JsonSchema => ({ anyOf: present(fields) });

/**
 * A contract as JSON Schema, generated from the valibot schema kf-bridge validates with so the two cannot drift.
 * `rules` translates the contract's custom checks, which the converter cannot read from their code.
 */
export function contractJsonSchema(schema: v.GenericSchema, rules: CheckRules = {}): JsonSchema {
  const overrideAction: ConversionConfig['overrideAction'] = ({ valibotAction, jsonSchema }) => {
    if (valibotAction.type !== 'check') return undefined;
    const message = String((valibotAction as { message?: unknown }).message);
    // UTF-8 bytes are never fewer than characters, so a byte limit implies the same character limit.
    const bytes = /^at most (\d+) bytes$/.exec(message);
    if (bytes) return { ...jsonSchema, maxLength: Number(bytes[1]), description: `${message} (UTF-8)` };
    // JSON Schema counts characters (code points), as the check does.
    const characters = /^at most (\d+) characters$/.exec(message);
    if (characters) return { ...jsonSchema, maxLength: Number(characters[1]) };
    const rule = rules[message];
    return rule && { ...jsonSchema, allOf: [...(jsonSchema.allOf ?? []), rule] };
  };
  const { $schema: _draft, ...converted } = toJsonSchema(schema, { errorMode: 'throw', overrideAction });
  return converted;
}
