import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AnalyzeError,
  aggregateRange,
  analyze,
  languageColor,
  mergePartials,
  type PartialAggregate,
  wilsonInterval,
} from '@forage/census';
// Internal: the chunked collection that analyze runs on each thread.
import { chunkBounds, collectChunks } from '../dist/analyze/range.js';
import { finalize } from '../dist/analyze/summary.js';
import { STUDY_FILE } from './shared-data.ts';

const SMALL = fileURLToPath(new URL('./fixtures/analyze/census-small', import.meta.url));
const PY_SCRIPT = fileURLToPath(
  new URL('../../../bench/analyze/study_analysis.py', import.meta.url),
);

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'forage-analyze-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The study's parse_data, transcribed naively: the reference the fast path must equal. */
function referenceFigures(path: string, top: number) {
  const bytes = new Map<string, number>();
  const count = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line) continue;
    for (const [lang, size] of Object.entries(JSON.parse(line) as Record<string, number>)) {
      bytes.set(lang, (bytes.get(lang) ?? 0) + Math.trunc(size));
      count.set(lang, (count.get(lang) ?? 0) + 1);
    }
  }
  // Array.prototype.sort is stable and Maps keep insertion order, as Python's sorted and dict do.
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
  const mean = new Map([...bytes].map(([l, b]) => [l, b / count.get(l)!] as const));
  return {
    totalSize: sorted(bytes).map(([l, b]) => [l, b / (1024 * 1024 * 1024)]),
    reposAppearedIn: sorted(count).map(([l, c]) => [l, c]),
    megabytesPerRepo: sorted(mean).map(([l, m]) => [l, m / (1024 * 1024)]),
  };
}

function ourFigures(s: Awaited<ReturnType<typeof analyze>>) {
  return {
    totalSize: s.study.totalSize.map((r) => [r.language, r.gigabytes]),
    reposAppearedIn: s.study.reposAppearedIn.map((r) => [r.language, r.repos]),
    megabytesPerRepo: s.study.megabytesPerRepo.map((r) => [r.language, r.megabytes]),
  };
}

test('the study file: our three top-10 tables equal its script, number for number', async (t) => {
  const summary = await analyze(STUDY_FILE, { format: 'blog' });
  const ours = ourFigures(summary);
  assert.deepEqual(ours, referenceFigures(STUDY_FILE, 10));
  // What the study published: C, C++, Java, JavaScript, HTML by size; HTML, JavaScript, CSS,
  // Java, Shell, Python by presence.
  assert.deepEqual(
    ours.totalSize.slice(0, 5).map((r) => r[0]),
    ['C', 'C++', 'Java', 'JavaScript', 'HTML'],
  );
  assert.deepEqual(
    ours.reposAppearedIn.slice(0, 6).map((r) => r[0]),
    ['HTML', 'JavaScript', 'CSS', 'Java', 'Shell', 'Python'],
  );
  // The dataset README's own counts.
  assert.equal(summary.overall.records, 100_000);
  assert.equal(summary.overall.emptyOrFailed, 26_267);
  assert.equal(summary.overall.withLanguages, 100_000 - 26_267);
  assert.equal(summary.overall.distinctLanguages, 304);
  assert.equal(summary.overall.totalBytes, 208_820_880_965);

  const python = spawnSync('python3', [PY_SCRIPT, STUDY_FILE, '10'], { encoding: 'utf8' });
  if (python.error) {
    t.diagnostic(
      `python3 not available (${python.error.message}); compared with the transcription only`,
    );
    return;
  }
  assert.equal(python.status, 0, python.stderr);
  assert.deepEqual(ours, JSON.parse(python.stdout), 'equal to the Python script, float for float');
});

test("the study file: honest figures beside the study's", async () => {
  const s = await analyze(STUDY_FILE, { format: 'blog' });
  const n = s.overall.withLanguages;
  const js = s.languages.find((l) => l.name === 'JavaScript')!;
  // Primary counts partition the repositories with languages.
  assert.equal(
    s.languages.reduce((sum, l) => sum + l.primary, 0),
    n,
  );
  assert.equal(
    s.languages.reduce((sum, l) => sum + l.repos, 0),
    s.overall.languagesPerRepo.histogram.reduce((a, h) => a + h.languages * h.repos, 0),
  );
  assert.ok(js.primary < js.repos);
  assert.ok(js.reposShareInterval[0] < js.reposShare && js.reposShare < js.reposShareInterval[1]);
  // Means are dominated by big repositories: the median is far below the mean for C.
  const c = s.languages.find((l) => l.name === 'C')!;
  assert.ok(c.medianBytes < c.meanBytes / 10, `${c.medianBytes} vs ${c.meanBytes}`);
  assert.ok(c.p90Bytes >= c.medianBytes);
  assert.equal(c.quantilesApproximate, false);
  // Renamed languages are mapped for colour and listed; the data keeps its own names.
  assert.ok(s.renames.some((r) => r.from === 'VimL' && r.to === 'Vim script'));
  assert.ok(s.renames.some((r) => r.from === 'Matlab' && r.to === 'MATLAB'));
  assert.ok(s.languages.some((l) => l.name === 'VimL'));
  // Pairs: HTML+JavaScript is the most common pair, and CSS goes with HTML far above chance.
  assert.deepEqual(s.pairs[0]!.languages, ['HTML', 'JavaScript']);
  const htmlCss = s.pairs.find((p) => p.languages.includes('HTML') && p.languages.includes('CSS'))!;
  assert.ok(htmlCss.lift > 2, String(htmlCss.lift));
  assert.equal(s.cooccurrence.languages[0], 'HTML');
  assert.equal(s.cooccurrence.repos[0]![0], s.languages[0]!.repos);
});

function comparable(p: PartialAggregate) {
  const byName = <T>(arr: T[]) => Object.fromEntries(p.names.map((n, i) => [n, arr[i]]));
  const pairs: Record<string, number> = {};
  for (const [key, n] of p.pairs) {
    const a = p.names[Math.floor(key / 2 ** 15)]!;
    const b = p.names[key % 2 ** 15]!;
    pairs[[a, b].sort().join('+')] = n;
  }
  return {
    records: p.records,
    status: p.status,
    appearances: byName(p.appearances),
    bytes: byName(p.bytes),
    primary: byName(p.primary),
    firstSeen: byName(p.firstSeen),
    perRepo: [...p.languagesPerRepo],
    pairs,
    count: byName(p.sketches.map((s) => s.count)),
    sketches: byName(
      p.sketches.map((s) => [
        s.min,
        s.max,
        s.exact ? [...s.exact].sort((x, y) => x - y) : null,
        s.buckets ? [...s.buckets] : null,
        s.zeros,
      ]),
    ),
    malformed: p.malformed,
  };
}

test('byte ranges that tile a file merge into the whole, wherever the cuts fall', async () => {
  const size = statSync(STUDY_FILE).size;
  const whole = await aggregateRange({ path: STUDY_FILE, format: 'blog', start: 0, end: size });
  // Cuts mid-line, right after a newline, and tiny ranges with no line start at all.
  const text = readFileSync(STUDY_FILE);
  const afterNewline = text.indexOf(10, 1_000_000) + 1;
  const cuts = [0, 1, 2, 777_777, afterNewline, afterNewline + 1, 2_000_000, size - 3, size];
  const parts = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    parts.push(
      await aggregateRange({
        path: STUDY_FILE,
        format: 'blog',
        start: cuts[i]!,
        end: cuts[i + 1]!,
        chunkSize: 4096,
      }),
    );
  }
  assert.deepEqual(comparable(mergePartials('blog', parts.reverse())), comparable(whole));
});

test('chunks taken in turn by several collectors, of any size, add up to the whole file', async (t) => {
  const file = join(tmp(t), 'mixed.jsonl');
  // A line longer than the reader's room for an unfinished line (16 KiB), languages past the
  // dense pair matrix (1,024) in pairs, and every kind of line the careful path reads.
  const long = JSON.stringify(
    Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`${'Long'.repeat(15)}-${i}`, i])),
  );
  const many = Array.from({ length: 1030 }, (_, i) => `{"Only-${i}":${i}}`);
  // A language past the exact limit of its sketch only once the collectors' values add up.
  const common = Array.from({ length: 3000 }, (_, i) => `{"Common":${i % 97}}`);
  const study = readFileSync(STUDY_FILE, 'utf8').split('\n').slice(0, 300);
  const odd = [
    '{"C":1,"Go":2}',
    '{}',
    ' { "C" : 3 }',
    '{"C\\u002B\\u002B":4}',
    'not json',
    '{"Go":5}\r',
    long,
    '',
    '{"Go":1,"Go":9}',
    '{"C":123456789012345}', // 15 digits: the longest the fast path reads
    '{"C":1234567890123456}', // 16: the careful path
    '{"C":-1}',
    ...many,
    '{"Only-1029":1,"Only-1028":2,"C":3}',
    ...common,
  ];
  writeFileSync(file, `${[...odd, ...study, ...odd, ...study, ...odd].join('\n')}\n{"Go":7}`);
  const size = statSync(file).size;
  const whole = await aggregateRange({ path: file, format: 'blog', start: 0, end: size });
  assert.equal(whole.malformed, 6); // "not json" and {"C":-1}, three times
  const commonSketch = whole.sketches[whole.names.indexOf('Common')]!;
  assert.equal(commonSketch.exact, null); // 9,000 values: in buckets
  assert.equal(commonSketch.zeros, 93); // i % 97 === 0, three times
  for (const [chunkBytes, readBytes] of [
    [size, 1 << 18],
    [97, 4096],
    [4096, 16],
    [20_000, 1000],
  ] as const) {
    const task = {
      path: file,
      format: 'blog' as const,
      bounds: chunkBounds(size, 1e9, chunkBytes), // chunks of chunkBytes
      readBytes,
      next: new Int32Array(new SharedArrayBuffer(4)),
    };
    // Three collectors interleave at each read, as threads would take chunks in turn.
    const [a, b, c] = await Promise.all([
      collectChunks(task),
      collectChunks(task),
      collectChunks(task),
    ]);
    a.absorb(b.state());
    a.absorb(structuredClone(c.state())); // as a worker's figures arrive
    const merged = a.toPartial();
    const why = `chunks of ${chunkBytes} bytes, reads of ${readBytes}`;
    assert.deepEqual(comparable(merged), comparable(whole), why);
    assert.deepEqual(merged.malformedSamples, whole.malformedSamples, why);
    assert.equal(merged.pairsTruncated, false);
  }
});

test('a census file read in chunks by several collectors equals one pass', async (t) => {
  // Statuses, ids, reasons and a torn line, repeated, through the census format's line reader.
  const file = join(tmp(t), 'languages.jsonl');
  const lines = readFileSync(join(SMALL, 'languages.jsonl'), 'utf8').trimEnd().split('\n');
  writeFileSync(file, `${Array.from({ length: 40 }, () => lines.join('\n')).join('\n')}\n`);
  const size = statSync(file).size;
  const whole = await aggregateRange({ path: file, format: 'census', start: 0, end: size });
  const task = {
    path: file,
    format: 'census' as const,
    bounds: chunkBounds(size, 2, 333), // large chunks first, then 333 bytes
    readBytes: 128,
    next: new Int32Array(new SharedArrayBuffer(4)),
  };
  const [a, b] = await Promise.all([collectChunks(task), collectChunks(task)]);
  a.absorb(structuredClone(b.state()));
  const merged = a.toPartial();
  assert.deepEqual(comparable(merged), comparable(whole));
  assert.deepEqual(merged.malformedSamples, whole.malformedSamples);
  assert.deepEqual(merged.reasons, whole.reasons);
  assert.deepEqual([merged.idMin, merged.idMax], [101, 110]);
  assert.equal(merged.status.blocked, 40);
});

test('equal counts are ordered by the file, not by the numbers the threads gave the languages', async (t) => {
  // Threads number languages in the order they meet them; merged in another order (a worker
  // that read the end of the file first), ties at the cut of the pairs, the renames, the
  // estimated languages and the reasons must come out the same.
  const dir = tmp(t);
  const half = (from: number, renamed: string) => [
    ...Array.from({ length: 20 }, (_, i) => `{"X${from + i}":5,"Y${from + i}":1}`),
    `{"${renamed}":1}`,
    ...Array.from({ length: 8200 }, (_, i) => `{"Common${from}":${i}}`),
  ];
  const blog = join(dir, 'blog.jsonl');
  const first = half(0, 'VimL').join('\n');
  writeFileSync(blog, `${first}\n${half(20, 'Matlab').join('\n')}\n`);
  const census = join(dir, 'languages.jsonl');
  const record = (id: number, reason: string) =>
    JSON.stringify({ id, full_name: 'o/r', status: 'blocked', languages: null, reason });
  writeFileSync(census, `${record(1, 'tos')}\n${record(2, 'dmca')}\n`);
  for (const [file, format, cut] of [
    [blog, 'blog', Buffer.byteLength(first) + 1],
    [census, 'census', Buffer.byteLength(record(1, 'tos')) + 1],
  ] as const) {
    const size = statSync(file).size;
    const head = await aggregateRange({ path: file, format, start: 0, end: cut });
    const tail = await aggregateRange({ path: file, format, start: cut, end: size });
    const summarize = (agg: PartialAggregate) =>
      finalize(agg, {
        top: 10,
        pairs: 10,
        heatmap: 12,
        input: { format, path: file, languagesFile: file, reposFile: null, manifest: null },
        listed: null,
        forks: null,
      });
    const inOrder = summarize(mergePartials(format, [head, tail]));
    const reversed = summarize(mergePartials(format, [tail, head]));
    for (const s of [inOrder, reversed]) {
      if (format === 'census') {
        assert.deepEqual(
          s.overall.reasons.map((r) => r.reason),
          ['blocked: dmca', 'blocked: tos'],
        );
        continue;
      }
      assert.deepEqual(
        s.pairs.map((p) => p.languages.join('+')),
        Array.from({ length: 10 }, (_, i) => `X${i}+Y${i}`),
      );
      assert.deepEqual(
        s.renames.map((r) => r.from),
        ['VimL', 'Matlab'],
      );
      assert.match(s.approximations[0]!, /\(Common0, Common20\)/);
      assert.deepEqual(
        s.languages.slice(0, 4).map((l) => l.name),
        ['Common0', 'Common20', 'X0', 'X1'],
      );
    }
  }
});

test('languages first met on one line keep its order, whichever thread met them first', async (t) => {
  // X and Y tie in every figure and first appear on one line, X first; further on, lines list
  // them the other way round. A thread that read only those numbered Y before X, and the
  // merged numbering is the calling thread's (or the first partial's): the study's tables
  // (Python's stable sort leaves X first), the ranking and the pair must follow the file.
  const file = join(tmp(t), 'ties.jsonl');
  const v = 10 ** 12;
  const head = ['{"Go":1}', `{"X":${v},"Y":${v}}`, '{"Go":2}'].join('\n');
  const tail = Array.from({ length: 3 }, () => `{"Y":${v},"X":${v}}`).join('\n');
  writeFileSync(file, `${head}\n${tail}\n`);
  const size = statSync(file).size;
  const cut = Buffer.byteLength(head) + 1;
  const summarize = (agg: PartialAggregate) => {
    const s = finalize(agg, {
      top: 10,
      pairs: 10,
      heatmap: 12,
      input: { format: 'blog', path: file, languagesFile: file, reposFile: null, manifest: null },
      listed: null,
      forks: null,
    });
    return { ...s, generatedAt: '' };
  };
  const whole = summarize(
    await aggregateRange({ path: file, format: 'blog', start: 0, end: size }),
  );
  assert.deepEqual(
    whole.study.totalSize.map((r) => r.language),
    ['X', 'Y', 'Go'],
  );
  assert.deepEqual(whole.pairs[0]!.languages, ['X', 'Y']);
  // As analyze runs: the calling thread read the tail, a worker the head.
  const range = (start: number, end: number) => ({
    path: file,
    format: 'blog' as const,
    bounds: Float64Array.of(start, end),
    next: new Int32Array(new SharedArrayBuffer(4)),
  });
  const calling = await collectChunks(range(cut, size));
  calling.absorb(structuredClone((await collectChunks(range(0, cut))).state()));
  assert.deepEqual(summarize(calling.toPartial()), whole);
  // The building blocks, merged tail first.
  const parts = await Promise.all([
    aggregateRange({ path: file, format: 'blog', start: cut, end: size }),
    aggregateRange({ path: file, format: 'blog', start: 0, end: cut }),
  ]);
  assert.deepEqual(summarize(mergePartials('blog', parts)), whole);
});

test('past 20 reasons, the same ones are named whichever thread met them first', async (t) => {
  // 25 reasons: 20 met once each at the head of the file, 5 met three times in its tail. The
  // 20 named used to be the first 20 the merged partial met: the head's in one pass, the
  // tail's five and 15 of the head's when a thread that read the tail was merged first.
  const file = join(tmp(t), 'languages.jsonl');
  const record = (id: number, reason: string) =>
    JSON.stringify({ id, full_name: 'o/r', status: 'error', languages: null, error: reason });
  const id = (i: number) => String(i).padStart(2, '0');
  const head = Array.from({ length: 20 }, (_, i) => record(i, `HTTP 5${id(i)}`)).join('\n');
  const tail = Array.from({ length: 15 }, (_, i) => record(20 + i, `HTTP 5${id(20 + (i % 5))}`));
  writeFileSync(file, `${head}\n${tail.join('\n')}\n`);
  const size = statSync(file).size;
  const cut = Buffer.byteLength(head) + 1;
  const summarize = (agg: PartialAggregate) =>
    finalize(agg, {
      top: 10,
      pairs: 10,
      heatmap: 12,
      input: { format: 'census', path: file, languagesFile: file, reposFile: null, manifest: null },
      listed: null,
      forks: null,
    }).overall.reasons;
  const whole = summarize(
    await aggregateRange({ path: file, format: 'census', start: 0, end: size }),
  );
  // The most frequent first, then by name; the rest counted together.
  assert.deepEqual(whole, [
    ...Array.from({ length: 5 }, (_, i) => ({ reason: `error: HTTP 5${id(20 + i)}`, repos: 3 })),
    ...Array.from({ length: 15 }, (_, i) => ({ reason: `error: HTTP 5${id(i)}`, repos: 1 })),
    { reason: 'other', repos: 5 },
  ]);
  const range = (start: number, end: number) =>
    aggregateRange({ path: file, format: 'census', start, end });
  for (const order of [
    [range(0, cut), range(cut, size)],
    [range(cut, size), range(0, cut)],
  ]) {
    assert.deepEqual(summarize(mergePartials('census', await Promise.all(order))), whole);
  }
});

test('analyze over several ranges equals one range', async () => {
  const one = await analyze(STUDY_FILE, { parallelism: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'forage-analyze-'));
  try {
    // 12 copies: big enough to be split into ranges.
    const big = join(dir, 'big.jsonl');
    const data = readFileSync(STUDY_FILE);
    writeFileSync(big, Buffer.concat(Array.from({ length: 3 }, () => data)));
    const split = await analyze(big, { parallelism: 4 });
    const single = await analyze(big, { parallelism: 1 });
    assert.deepEqual(split.study, single.study);
    assert.deepEqual(split.languages, single.languages);
    assert.deepEqual(split.pairs, single.pairs);
    assert.equal(split.overall.records, 3 * one.overall.records);
    assert.deepEqual(
      split.study.reposAppearedIn.map((r) => r.language),
      one.study.reposAppearedIn.map((r) => r.language),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a census directory: statuses told apart, forks counted, torn last line reported', async () => {
  const s = await analyze(SMALL);
  const o = s.overall;
  assert.equal(s.input.format, 'census');
  assert.equal(o.listed, 12);
  assert.equal(o.forks, 2);
  assert.equal(o.records, 10);
  assert.equal(o.withLanguages, 6);
  assert.equal(o.empty, 1);
  assert.equal(o.emptyOrFailed, 0);
  assert.equal(o.notFound, 1);
  assert.equal(o.blocked, 1);
  assert.equal(o.failed, 1);
  assert.equal(o.malformed, 1);
  assert.equal(o.pending, 2); // the torn line and one never fetched
  assert.match(o.malformedSamples[0]!.reason, /not a JSON object/);
  assert.deepEqual(o.idRange, { first: 101, last: 110 });
  assert.deepEqual(o.reasons.map((r) => r.reason).sort(), [
    'blocked: dmca',
    'error: HTTP 502 after 6 attempts',
  ]);
  // The manifest is shown without its token field.
  assert.equal(s.input.manifest?.via, 'graphql');
  assert.equal(s.input.manifest && 'tokens' in s.input.manifest, false);
  const py = s.languages.find((l) => l.name === 'Python')!;
  assert.equal(py.repos, 3);
  assert.equal(py.bytes, 7769 + 4000 + 500);
  // A tie (Shell 500, Python 500) goes to the first listed, as GitHub orders them.
  assert.equal(s.languages.find((l) => l.name === 'Shell')!.primary, 1);
  assert.equal(py.primary, 1);
  assert.equal(py.medianBytes, 4000);
  assert.equal(py.quantilesApproximate, false);
  const vim = s.languages.find((l) => l.name === 'VimL')!;
  assert.equal(vim.linguist, 'Vim script');
  assert.match(vim.color, /^#[0-9a-f]{6}$/);
  assert.deepEqual(o.languagesPerRepo.histogram, [
    { languages: 1, repos: 1 },
    { languages: 2, repos: 4 },
    { languages: 3, repos: 1 },
  ]);
  assert.equal(o.languagesPerRepo.median, 2);
});

test('blog lines: escapes, whitespace, CRLF, repeated keys, floats and strings read as JSON does', async (t) => {
  const file = join(tmp(t), 'odd.jsonl');
  writeFileSync(
    file,
    [
      '{"C\\u002B\\u002B": 10, "Go":5}',
      ' { "C++" : 7 , "Unknown Lang":1 }\r',
      '{"Go":1,"Go":9}',
      '{"Python":12.9,"Shell":"3"}',
      '{}',
      '',
      '{"Rust":12345678901234567}',
    ].join('\n'),
  );
  const s = await analyze(file);
  const get = (name: string) => s.languages.find((l) => l.name === name)!;
  assert.equal(get('C++').repos, 2);
  assert.equal(get('C++').bytes, 17);
  assert.equal(get('Go').bytes, 14);
  assert.equal(get('Go').repos, 2);
  assert.equal(get('Python').bytes, 12);
  assert.equal(get('Shell').bytes, 3);
  assert.equal(get('Rust').bytes, 12345678901234568);
  assert.equal(get('Unknown Lang').linguist, null);
  assert.equal(get('Unknown Lang').color, '#9e9e9e');
  assert.equal(s.overall.records, 6);
  assert.equal(s.overall.emptyOrFailed, 1);
  assert.equal(s.overall.malformed, 0);
});

test('blog file saved with a UTF-8 byte order mark: the first record is read, not dropped', async (t) => {
  const file = join(tmp(t), 'bom.jsonl');
  writeFileSync(file, '\uFEFF{"HTML": 6, "CSS": 2}\n{"C": 5}\n\uFEFF{"Go": 1}\n');
  const s = await analyze(file);
  assert.equal(s.overall.records, 2);
  assert.deepEqual(
    s.languages.map((l) => l.name).sort(),
    ['C', 'CSS', 'HTML'],
    'only a mark at the start of the file is one',
  );
  assert.equal(s.overall.malformed, 1);
  assert.equal(s.overall.malformedSamples[0]!.offset, 34);
});

test('bad lines are counted with their offset and line number, not fatal; a file of nothing but bad lines is', async (t) => {
  const dir = tmp(t);
  const file = join(dir, 'bad.jsonl');
  writeFileSync(file, '{"C":1}\n{"C":-5}\n[1,2]\n\n{"C":1\n');
  const s = await analyze(file);
  assert.equal(s.overall.records, 1);
  assert.equal(s.overall.malformed, 3);
  assert.deepEqual(
    s.overall.malformedSamples.map((m) => m.offset),
    [8, 17, 24],
  );
  // Messages name lines, which an editor can go to (a blank line is a line too).
  assert.deepEqual(
    s.overall.malformedSamples.map((m) => m.line),
    [2, 3, 5],
  );
  // A census languages.jsonl read as blog format: a clear error naming the fix.
  await assert.rejects(
    analyze(join(SMALL, 'languages.jsonl'), { format: 'blog' }),
    (e: unknown) => {
      assert.ok(e instanceof AnalyzeError);
      assert.equal(e.code, 'ERR_ANALYZE_FORMAT');
      assert.match(e.message, /languages\.jsonl.*first problem on line 1: .*--input-format census/);
      return true;
    },
  );
  await assert.rejects(analyze(join(dir, 'missing')), {
    code: 'ERR_ANALYZE_INPUT',
    message: /does not exist/,
  });
  await assert.rejects(analyze(dir), {
    code: 'ERR_ANALYZE_INPUT',
    message: /no languages\.jsonl.*forage census/,
  });
  await assert.rejects(analyze(SMALL, { format: 'blog' }), {
    code: 'ERR_ANALYZE_INPUT',
    message: /directory/,
  });
  await assert.rejects(analyze(file, { top: 0 }), { code: 'ERR_ANALYZE_OPTION', message: /top/ });
});

test('a name met only on unreadable lines is not a language of the input', async (t) => {
  const dir = tmp(t);
  // Go's key is read before the line proves unreadable (a null byte count, a status that
  // contradicts the languages): it must not become a language with 0 repositories.
  const blog = join(dir, 'blog.jsonl');
  writeFileSync(blog, '{"C":5}\n{"Go":1,"C":null}\n{"C":7,"Rust":2}\n');
  writeFileSync(
    join(dir, 'languages.jsonl'),
    [
      { id: 1, status: 'ok', languages: { C: 5 } },
      { id: 2, status: 'empty', languages: { Go: 1 } },
      { id: 3, status: 'ok', languages: { Zig: 3, C: 'lots' } },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n'),
  );
  for (const s of [await analyze(blog), await analyze(dir)]) {
    assert.equal(s.overall.malformed, s.input.format === 'blog' ? 1 : 2);
    assert.deepEqual(
      s.languages.map((l) => l.name),
      s.input.format === 'blog' ? ['C', 'Rust'] : ['C'],
    );
    assert.equal(s.overall.distinctLanguages, s.languages.length);
    for (const rows of Object.values(s.study)) {
      for (const r of rows as { repos: number; meanBytes: number }[]) {
        assert.ok(r.repos > 0 && Number.isFinite(r.meanBytes), JSON.stringify(r));
      }
    }
    assert.deepEqual(
      s.cooccurrence.languages,
      s.languages.map((l) => l.name),
    );
  }
});

test('a line listing tens of thousands of languages is read in bounded time, repeated keys and all', (t) => {
  // 60,000 names sharing their first two bytes, on one line: the prefix chain walked per key
  // and the 1.8 billion pairs made this take 4.5 minutes (now about a second).
  const file = join(tmp(t), 'wide.jsonl');
  const names = Array.from({ length: 60_000 }, (_, i) => `Lang${i}`);
  const wide = `{${names.map((n, i) => `"${n}":${i + 1}`).join(',')}}`;
  // The same with spaces, each key twice (the careful path; JSON keeps the last value).
  const twice = `{ ${names.map((n) => `"${n}": 1, "${n}": 2`).join(', ')} }`;
  writeFileSync(file, `{"C":1}\n${wide}\n${twice}\n{"C":2,"Lang5":3}\n`);
  // In a child process with a deadline: the work is synchronous, so a test timeout would only
  // fire once it is over.
  const script = `
    import { analyze } from '@forage/census';
    const s = await analyze(${JSON.stringify(file)});
    const get = (name) => s.languages.find((l) => l.name === name);
    console.log(JSON.stringify({ overall: s.overall, approximations: s.approximations,
      lang5: get('Lang5'), last: get('Lang59999'), c: get('C') }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.status, 0, `${r.error?.message ?? ''} ${r.stderr}`);
  const s = JSON.parse(r.stdout);
  assert.equal(s.overall.records, 4);
  assert.equal(s.overall.malformed, 0);
  assert.equal(s.overall.distinctLanguages, 60_001);
  assert.equal(s.lang5.repos, 3);
  assert.equal(s.lang5.bytes, 6 + 2 + 3);
  assert.equal(s.last.bytes, 60_000 + 2);
  assert.equal(s.c.repos, 2);
  assert.deepEqual(s.overall.languagesPerRepo.histogram, [
    { languages: 1, repos: 1 },
    { languages: 2, repos: 1 },
    { languages: 60_000, repos: 2 },
  ]);
  assert.match(s.approximations.join(' '), /Pairs are incomplete/);
});

test('compare: rank and share changes, with a conservative test of a real change', async () => {
  const s = await analyze(SMALL, { compare: STUDY_FILE, top: 3 });
  const c = s.compare!;
  assert.equal(c.base.format, 'blog');
  assert.equal(c.base.withLanguages, 73_733);
  const html = c.rows.find((r) => r.name === 'HTML')!;
  assert.equal(html.baseRank, 1);
  assert.ok(Math.abs(html.shareChange - (2 / 6 - 29_919 / 73_733)) < 1e-12);
  // Six repositories cannot show that HTML's share changed.
  assert.equal(html.distinct, false);
  // Rows cover both top-3 lists.
  for (const name of ['HTML', 'JavaScript', 'CSS', 'Python'])
    assert.ok(
      c.rows.some((r) => r.name === name),
      name,
    );
});

test('Wilson interval: known values and edge cases', () => {
  const [lo0, hi0] = wilsonInterval(0, 10);
  assert.equal(lo0, 0);
  assert.ok(Math.abs(hi0 - 0.2775) < 1e-4, String(hi0));
  const [lo, hi] = wilsonInterval(50, 100);
  assert.ok(Math.abs(lo - 0.4038) < 1e-4 && Math.abs(hi - 0.5962) < 1e-4, `${lo} ${hi}`);
  assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
  const [, hiAll] = wilsonInterval(10, 10);
  assert.equal(hiAll, 1);
});

test('medians beyond the exact limit are estimates within 0.4%, and say so', async (t) => {
  const file = join(tmp(t), 'many.jsonl');
  // 20,000 repositories with a heavy-tailed size for "Big" and 100 for "Small".
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const sizes = Array.from({ length: 20_000 }, () => Math.floor(10 ** (1 + 6 * random())));
  const lines = sizes.map((v, i) =>
    JSON.stringify(i < 100 ? { Big: v, Small: i + 1 } : { Big: v }),
  );
  writeFileSync(file, `${lines.join('\n')}\n`);
  const s = await analyze(file);
  const big = s.languages.find((l) => l.name === 'Big')!;
  const small = s.languages.find((l) => l.name === 'Small')!;
  const sorted = [...sizes].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
  assert.equal(big.quantilesApproximate, true);
  assert.ok(Math.abs(big.medianBytes / at(0.5) - 1) <= 0.004, `${big.medianBytes} vs ${at(0.5)}`);
  assert.ok(Math.abs(big.p90Bytes / at(0.9) - 1) <= 0.004, `${big.p90Bytes} vs ${at(0.9)}`);
  assert.equal(big.meanBytes, sizes.reduce((a, b) => a + b, 0) / sizes.length);
  assert.equal(small.quantilesApproximate, false);
  assert.equal(small.medianBytes, 50.5);
  assert.match(s.approximations[0]!, /Big/);
});

test('colours: every Linguist language keeps its own colour; renamed and re-cased names map; paths cannot escape', () => {
  const all = createRequire(import.meta.url)('linguist-languages') as Record<
    string,
    { color?: string }
  >;
  for (const [name, entry] of Object.entries(all)) {
    const c = languageColor(name);
    assert.equal(c.linguist, name);
    assert.equal(c.color, entry.color?.toLowerCase() ?? '#9e9e9e', name);
  }
  assert.deepEqual(languageColor('VimL'), {
    name: 'VimL',
    linguist: 'Vim script',
    color: all['Vim script']!.color!.toLowerCase(),
  });
  assert.equal(languageColor('html').linguist, 'HTML');
  assert.equal(languageColor('octave').linguist, 'MATLAB'); // an alias
  for (const name of ['../../package', '..', 'a/b', '__proto__', 'toString', '']) {
    assert.deepEqual(languageColor(name), { name, linguist: null, color: '#9e9e9e' }, name);
  }
});

test('keys that share a prefix are told apart (the fast path matches whole keys only)', async (t) => {
  const file = join(tmp(t), 'prefixes.jsonl');
  const lines = [
    { JavaScript: 1, Java: 2 },
    { Java: 4, 'JavaScript React': 8, JavaScript: 16 },
    { C: 32, 'C++': 64, 'C#': 128, CSS: 256 },
    { 'C#': 512, C: 1024 },
    { 'Ja"va': 2048 },
  ];
  writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  const s = await analyze(file);
  const bytes = Object.fromEntries(s.languages.map((l) => [l.name, l.bytes]));
  assert.deepEqual(bytes, {
    JavaScript: 17,
    Java: 6,
    'JavaScript React': 8,
    C: 1056,
    'C++': 64,
    'C#': 640,
    CSS: 256,
    'Ja"va': 2048,
  });
});
