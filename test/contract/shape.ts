/**
 * Compares the shape of a payload with a real one: the same field names, the same JSON types, no field the real
 * one lacks, and every field it carries present, recursively. Array elements are compared by shape: each element
 * must have the shape of some element of the real array, so lists of mixed items (users and departments) work.
 * Values are never compared. `optional` lists paths (`servicer_list[].stop_type`) the platform documents as
 * sometimes absent: they may be missing from either side, and their type still has to match when both have them.
 */
export function shapeDifferences(
  real: unknown,
  candidate: unknown,
  optional: readonly string[] = [],
): string[] {
  return differences(real, candidate, '', new Set(optional));
}

type JsonType = 'null' | 'array' | 'object' | 'string' | 'number' | 'boolean';

function jsonType(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value as JsonType;
}

const join = (path: string, field: string) => (path ? `${path}.${field}` : field);

function differences(real: unknown, candidate: unknown, path: string, optional: Set<string>): string[] {
  const where = path || 'the payload';
  const [realType, candidateType] = [jsonType(real), jsonType(candidate)];
  if (realType !== candidateType) return [`${where} is ${candidateType}, the real one ${realType}`];
  if (realType === 'array')
    return arrayDifferences(real as unknown[], candidate as unknown[], path, optional);
  if (realType !== 'object') return [];
  const [realObject, candidateObject] = [
    real as Record<string, unknown>,
    candidate as Record<string, unknown>,
  ];
  const found: string[] = [];
  for (const field of Object.keys(realObject)) {
    const fieldPath = join(path, field);
    if (field in candidateObject)
      found.push(...differences(realObject[field], candidateObject[field], fieldPath, optional));
    else if (!optional.has(fieldPath)) found.push(`${fieldPath} is missing`);
  }
  for (const field of Object.keys(candidateObject)) {
    const fieldPath = join(path, field);
    if (!(field in realObject) && !optional.has(fieldPath))
      found.push(`${fieldPath} is not in the real payload`);
  }
  return found;
}

/** Each candidate element against the real element it fits best; empty arrays have no element shape to check. */
function arrayDifferences(
  real: unknown[],
  candidate: unknown[],
  path: string,
  optional: Set<string>,
): string[] {
  if (real.length === 0) return [];
  const found = new Set<string>();
  for (const element of candidate) {
    const tries = real.map((model) => differences(model, element, `${path}[]`, optional));
    const best = tries.reduce((a, b) => (b.length < a.length ? b : a));
    for (const difference of best) found.add(difference);
  }
  return [...found];
}
