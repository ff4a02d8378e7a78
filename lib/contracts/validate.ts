import * as v from 'valibot';
import { ContractError } from '../errors';

/** Validates at a boundary; the error names the contract and each offending field by its path. */
export function validate<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  contract: string,
): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const issues = result.issues
    .slice(0, 20)
    .map((issue) => ({ path: v.getDotPath(issue) ?? '(root)', message: issue.message }));
  const fields = issues
    .slice(0, 5)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  throw new ContractError(`${contract}: ${fields}`, { issues });
}
