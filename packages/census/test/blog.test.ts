import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportCensus, type LanguageRecord, runCensus } from '@forage/census';
import { emulator, readJsonl, tempDir } from './helpers.ts';
import { STUDY_FILE as blogFile } from './shared-data.ts';

test('the 2016 census, served by the emulator, comes back identical and exports byte for byte', {
  skip: existsSync(blogFile) ? false : `${blogFile} is not on this machine`,
}, async (t) => {
  const emu = await emulator(t, { dataset: `blog:${blogFile}`, secondaryLimit: false });
  const dir = tempDir(t);
  const result = await runCensus({
    api: emu.url,
    tokens: ['ghp_blogproof0000000000000000000000000001'],
    out: dir,
    since: 76761293,
    repos: 100_000,
    limits: { restPoints: 1_000_000, graphqlPoints: 1_000_000 },
  });
  assert.equal(result.manifest.complete, true);
  assert.equal(result.manifest.counts!.listed, 100_000);

  const original = readFileSync(blogFile, 'utf8');
  const lines = original.split('\n').filter((l) => l.length > 0);
  // One request per 100 repositories, plus one per extra page of 100 languages.
  const pages = lines.reduce(
    (n, l) => n + Math.max(0, Math.ceil(Object.keys(JSON.parse(l)).length / 100) - 1),
    0,
  );
  assert.ok(pages > 0, 'the 2016 file has a repository with more than 100 languages');
  assert.equal(result.manifest.requests.graphql, 1000 + pages);
  const byId = new Map(
    readJsonl<LanguageRecord>(join(dir, 'languages.jsonl')).map((r) => [r.id, r]),
  );
  const ids = [...byId.keys()].sort((a, b) => a - b);
  let inexpressible = 0;
  ids.forEach((id, i) => {
    const r = byId.get(id)!;
    if (r.status === 'ok' || r.status === 'empty') {
      assert.equal(JSON.stringify(r.languages), lines[i], `line ${i + 1} (id ${id})`);
    } else {
      inexpressible++;
      assert.equal(lines[i], '{}', `line ${i + 1}: a ${r.status} repository was {} in 2016`);
    }
  });

  const exported = await exportCensus(dir, { format: 'blog' });
  assert.equal(exported.repos, 100_000);
  assert.equal(exported.inexpressible, inexpressible);
  assert.equal(readFileSync(join(dir, 'lang_data.jsonl'), 'utf8'), original, 'byte for byte');
  const allRepos = readFileSync(join(dir, 'all_repos.jsonl'), 'utf8').split('\n');
  assert.match(
    allRepos[0]!,
    /^\{"id": 7676129\d, "name": "[^"]+", "languages_url": "http:\/\/127\.0\.0\.1:\d+\/repos\/[^"]+\/languages"\}$/,
  );
  assert.equal(emu.stats().overLimit.total, 0);
});

test('export refuses an unfinished census and an unknown format', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(exportCensus(dir, { format: 'csv' as 'blog' }), {
    code: 'ERR_CENSUS_OPTION',
    message: /--format must be blog/,
  });
  await assert.rejects(exportCensus(dir, { format: 'blog' }), {
    code: 'ERR_CENSUS_OUTPUT',
    message: /no repos\.jsonl lines/,
  });
});
