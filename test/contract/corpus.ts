import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWechatXml, type XmlElement } from '../../lib/xml';
import { shapeDifferences } from './shape';

export const CORPUS_DIR = join(import.meta.dirname, 'corpus');

export type Source =
  | { repo: string; path: string; commit: string }
  | { url: string }
  | { codeIndexId: string; note: string };

export interface CorpusEntry {
  readonly file: string;
  readonly platform: 'wecom' | 'mp';
  readonly what: string;
  readonly evidence: string;
  readonly source: Source;
  readonly notes?: string;
  /** Paths the platform documents as sometimes absent. */
  readonly optional?: readonly string[];
}

export interface CorpusIndex {
  readonly entries: readonly CorpusEntry[];
  readonly missing: readonly { platform: string; what: string; why: string }[];
}

export const corpusIndex = JSON.parse(readFileSync(join(CORPUS_DIR, 'index.json'), 'utf8')) as CorpusIndex;

export function entry(file: string): CorpusEntry {
  const found = corpusIndex.entries.find((e) => e.file === file);
  if (!found) throw new Error(`${file} is not in the corpus index`);
  return found;
}

export const corpusText = (file: string) => readFileSync(join(CORPUS_DIR, entry(file).file), 'utf8');

// biome-ignore lint/suspicious/noExplicitAny: corpus payloads are read field by field, as the platform sent them.
export const corpusJson = (file: string): Record<string, any> => JSON.parse(corpusText(file));

export const corpusXml = (file: string): XmlElement => parseWechatXml(corpusText(file), file);

/** The shape differences of a payload from a corpus file, with the paths its index entry marks optional. */
export const differencesFrom = (file: string, candidate: unknown, real: unknown = corpusJson(file)) =>
  shapeDifferences(real, candidate, entry(file).optional);

/** A JSON body as it goes over the wire: undefined fields dropped. */
export const wire = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
