import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CORPUS_DIR, corpusIndex, corpusJson, corpusXml } from './corpus';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [relative(CORPUS_DIR, path)];
  });
}

const payloads = filesUnder(CORPUS_DIR).filter((file) => file !== 'index.json');
const listed = corpusIndex.entries.map((entry) => entry.file);

describe('the corpus index', () => {
  it('lists every payload file, once', () => {
    expect(listed.filter((file, i) => listed.indexOf(file) !== i)).toEqual([]);
    expect(payloads.filter((file) => !listed.includes(file))).toEqual([]);
  });

  it('lists only files that exist', () => {
    expect(listed.filter((file) => !payloads.includes(file))).toEqual([]);
  });

  it.each(corpusIndex.entries)(
    '$file has a source, a platform matching its folder and a description',
    (entry) => {
      expect(entry.platform).toBe(entry.file.split('/')[0]);
      expect(entry.what).not.toBe('');
      expect(entry.evidence).not.toBe('');
      if ('url' in entry.source) expect(entry.source.url).toMatch(/^https:\/\/\S+$/);
      // A file the code index holds without naming its repository: its id, and why no repository is named.
      else if ('codeIndexId' in entry.source) {
        expect(entry.source.codeIndexId).toMatch(/^\d+$/);
        expect(entry.source.note).not.toBe('');
      } else {
        expect(entry.source.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
        expect(entry.source.path).not.toBe('');
        expect(entry.source.commit).toMatch(/^[0-9a-f]{40}$/);
      }
    },
  );

  it.each(corpusIndex.entries)('$file parses as JSON or WeChat XML', (entry) => {
    if (entry.file.endsWith('.xml')) expect(Object.keys(corpusXml(entry.file)).length).toBeGreaterThan(0);
    else expect(typeof corpusJson(entry.file)).toBe('object');
  });

  it('says why each payload without a real example has none', () => {
    for (const gap of corpusIndex.missing) expect(gap.why.length, gap.what).toBeGreaterThan(20);
  });
});
