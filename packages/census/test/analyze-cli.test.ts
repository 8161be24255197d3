import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STUDY_FILE } from './shared-data.ts';

const BIN = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));
const SMALL = fileURLToPath(new URL('./fixtures/analyze/census-small', import.meta.url));

function forage(cwd: string, ...args: string[]) {
  const env = { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' };
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('forage analyze --input-format blog FILE: table on stdout, report in ./NAME-report', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'forage-cli-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const r = forage(cwd, 'analyze', '--input-format', 'blog', STUDY_FILE, '--top', '3', '--open');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /The study's figures \(top 3\)/);
  assert.match(r.stdout, /^ *1 {2}C {2,}81\.14 {2}HTML {2,}29,919 {2}Smali {2,}64\.47$/m);
  assert.doesNotMatch(r.stdout, /^ *4 /m);
  const out = join(cwd, 'lang_data-report');
  assert.match(
    r.stdout,
    new RegExp(`report: ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/report\\.html`),
  );
  // --open with no display prints where the report is instead.
  assert.match(r.stdout, /no browser on this machine.*report\.html/);
  for (const f of [
    'report.html',
    'summary.json',
    'charts/study-repos.svg',
    'charts/study-repos.png',
  ]) {
    assert.ok(existsSync(join(out, f)), f);
  }
});

test('forage analyze DIR --json --compare: the summary on stdout, the report in the census directory by default', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'forage-cli-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const out = join(cwd, 'census');
  cpSync(SMALL, out, { recursive: true });
  const r = forage(cwd, 'analyze', out, '--json', '--compare', STUDY_FILE);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.input.format, 'census');
  assert.equal(summary.compare.base.format, 'blog');
  assert.deepEqual(summary, JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')));
  // The torn line is reported on stderr, as one warning.
  assert.match(
    r.stderr,
    /warning: 1 unreadable line\(s\) in .*languages\.jsonl were left out \(first on line 11: /,
  );
});

test('forage analyze: bad usage exits 2 with one line naming the fix', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'forage-cli-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const afile = join(cwd, 'afile');
  writeFileSync(afile, '');
  const cases: [string[], RegExp][] = [
    [['analyze', join(cwd, 'nothing-here')], /does not exist/],
    [['analyze', cwd], /no languages\.jsonl.*forage census --out/],
    [['analyze', STUDY_FILE, '--top', '0'], /--top must be/],
    [['analyze', STUDY_FILE, '--input-format', 'csv'], /--input-format must be census or blog/],
    [
      [
        'analyze',
        join(SMALL, 'languages.jsonl'),
        '--input-format',
        'blog',
        '--out',
        join(cwd, 'o'),
      ],
      /--input-format census/,
    ],
    [
      ['analyze', SMALL, '--out', afile],
      /--out .*afile: cannot create .*a file is in the way.*choose/,
    ],
    // A pipe (as from <(zcat lang_data.jsonl.gz)) cannot be read at offsets.
    [
      ['analyze', '/dev/null', '--out', join(cwd, 'o')],
      /\/dev\/null is not a regular file.*save it to a file/,
    ],
    // --input-format is the input's: a baseline's error names --compare and its own fix.
    [
      ['analyze', STUDY_FILE, '--compare', join(cwd, 'nothing-here'), '--out', join(cwd, 'o')],
      /^forage: error: --compare: .*nothing-here does not exist/,
    ],
    [
      ['analyze', STUDY_FILE, '--compare', join(SMALL, 'languages.jsonl'), '--out', join(cwd, 'o')],
      /^forage: error: --compare: .*languages\.jsonl: no line could be read as blog format.*compare with its directory$/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = forage(cwd, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, message);
  }
  // A run that failed left no report directory behind (./nothing-here-report, --out o).
  assert.deepEqual(readdirSync(cwd), ['afile']);
});

test('forage analyze: escape sequences in an unreadable line never reach the terminal', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'forage-cli-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  // JSON.parse quotes the bad line in its message: ESC [31m, and OSC 0 (the window title).
  const garbage = '\u001b[31mRED\u001b]0;pwned\u0007\u009b2J';
  writeFileSync(join(cwd, 'some.jsonl'), `{"C":1}\n${garbage}\n`);
  writeFileSync(join(cwd, 'none.jsonl'), `${garbage}\n`);
  const warned = forage(cwd, 'analyze', 'some.jsonl');
  assert.equal(warned.code, 0, warned.stderr);
  assert.match(warned.stderr, /warning: 1 unreadable line.*first on line 2: not JSON .*\?\[31mRED/);
  const failed = forage(cwd, 'analyze', 'none.jsonl');
  assert.equal(failed.code, 2, failed.stderr);
  assert.match(failed.stderr, /no line could be read as blog format/);
  for (const text of [warned.stdout, warned.stderr, failed.stderr]) {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
    assert.doesNotMatch(text, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  }
});

test('forage census --emulator then the report: the summary agrees with the census manifest', (t) => {
  const cwd = mkdtempSync(join(tmpdir(), 'forage-cli-'));
  t.after(() => rmSync(cwd, { recursive: true, force: true }));
  const dir = join(cwd, 'census');
  const r = forage(cwd, 'census', '--emulator', 'synthetic:800', '--out', dir, '--quiet');
  assert.equal(r.code, 0, r.stderr);
  const manifest = JSON.parse(readFileSync(join(dir, 'census.json'), 'utf8'));
  const summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
  const o = summary.overall;
  const c = manifest.counts;
  assert.deepEqual(
    [o.listed, o.withLanguages, o.empty, o.notFound, o.blocked, o.failed, o.malformed, o.pending],
    [c.listed, c.ok, c.empty, c.not_found, c.blocked, c.error, 0, 0],
  );
  assert.ok(existsSync(join(dir, 'report.html')));
  assert.ok(
    !readFileSync(join(dir, 'report.html'), 'utf8').includes(manifest.tokens?.[0] ?? '\u0000'),
  );
});
