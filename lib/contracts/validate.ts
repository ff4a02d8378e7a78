import * as v from 'valibot';
import { ContractError } from '../errors';

type Issue = v.BaseIssue<unknown>;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  Array: 'a list',
  Object: 'an object',
};

/** `("kf" | "mp")` → `one of "kf", "mp"`; `"text"` → `"text"`; `string` → `a string`. */
function expectedType(expected: string | null): string {
  const choices = (expected ?? '').replace(/^\((.*)\)$/, '$1').split(' | ');
  if (choices.length > 1) return `one of ${choices.join(', ')}`;
  return TYPE_NAMES[choices[0] ?? ''] ?? choices[0] ?? 'something else';
}

const unit = (issue: Issue) => (Array.isArray(issue.input) ? 'items' : 'characters');

/** What valibot's own checks found, said after the field's name. */
function builtIn(issue: Issue & { requirement?: unknown }): string {
  if (issue.kind === 'schema') {
    if (issue.input === undefined) return 'is required';
    if (issue.expected === 'never') return 'is not a known field';
    return `must be ${expectedType(issue.expected)}`;
  }
  const requirement = String(issue.requirement);
  switch (issue.type) {
    case 'min_length':
      return requirement === '1' ? 'must not be empty' : `must have at least ${requirement} ${unit(issue)}`;
    case 'max_length':
      return Array.isArray(issue.input)
        ? `must have at most ${requirement} items`
        : `is longer than ${requirement} characters`;
    case 'length':
      return `must have exactly ${requirement} ${unit(issue)}`;
    case 'integer':
      return 'must be a whole number';
    case 'min_value':
      return `must be at least ${requirement}`;
    case 'max_value':
      return `must be at most ${requirement}`;
    default:
      return `is not valid (${issue.message})`;
  }
}

/**
 * The contracts' own messages say what a field must be ("an https URL", "at most 2048 bytes") or are already a
 * sentence naming it ("name or avatar required"): each is made a sentence that names the field once.
 */
function own(message: string, subject: string, field: string): string {
  const limit = /^at most (\d+ (?:bytes|characters).*)$/.exec(message);
  if (limit) return `${subject} is longer than ${limit[1]}`;
  const together = /^(with [^,]+), (.*)$/.exec(message);
  if (together) return `${subject}, ${together[1]}, is ${together[2]}`;
  if (/^(exactly|at most one|at least one) /.test(message)) return `${subject} must have ${message}`;
  if (message.startsWith('not ')) return `${subject} is ${message}`;
  if (field && message.split(/\W+/).includes(field)) return message;
  return `${subject} must be ${message}`;
}

/** One sentence for one problem, naming the field by its path. */
function sentence(issue: Issue, path: string | undefined): string {
  const subject = path ?? 'the input';
  if (issue.message.startsWith('Invalid ')) return `${subject} ${builtIn(issue)}`;
  const field = path?.split('.').findLast((part) => !/^\d+$/.test(part)) ?? '';
  return own(issue.message, subject, field);
}

/**
 * Validates at a boundary. The error names the contract, then each field with a problem, once (its first
 * problem: a missing field is not also the wrong type), in a sentence a caller can act on.
 */
export function validate<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  contract: string,
): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const byPath = new Map<string, { path: string; message: string }>();
  for (const issue of result.issues) {
    const path = v.getDotPath(issue) ?? undefined;
    const key = path ?? '(root)';
    if (!byPath.has(key)) byPath.set(key, { path: key, message: sentence(issue, path) });
  }
  const issues = [...byPath.values()].slice(0, 20);
  const problems = issues
    .slice(0, 5)
    .map((issue) => issue.message)
    .join('; ');
  throw new ContractError(`${contract}: ${problems}`, { issues });
}
