// The 2016 study, done again: list repositories from an id, ask each one's languages, save
// both, and export them in the study's own format. It runs against a loopback GitHub emulator
// serving the study's real data, so it needs no token and no network:
//
//   npm run build && npx tsx examples/census.ts   (about a minute: GitHub's real limits)
//
// The study's file is read from FORAGE_SHARED_DATA when set, else from ../shared/data beside
// the repository or from /work/shared/data (where `npm test` looks too).
//
// For the real API, drop the emulator and pass `api: 'https://api.github.com'` and your tokens.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportCensus, runCensus } from '@forage/census';
import { startEmulator } from '@forage/github-emulator';

const sharedData = process.env.FORAGE_SHARED_DATA
  ? [process.env.FORAGE_SHARED_DATA]
  : [fileURLToPath(new URL('../../shared/data/', import.meta.url)), '/work/shared/data'];
const study = sharedData
  .map((dir) => join(dir, 'github-2016', 'lang_data.jsonl'))
  .find((file) => existsSync(file));
if (study === undefined) {
  console.error(
    `the 2016 study's lang_data.jsonl is not in ${sharedData.join(' or ')}: set FORAGE_SHARED_DATA to the directory holding github-2016/`,
  );
  process.exit(2);
}
const emu = await startEmulator({ dataset: `blog:${study}` });
try {
  const { manifest, dir } = await runCensus(
    {
      api: emu.url,
      tokens: ['ghp_example0000000000000000000000000000000'],
      since: 76761293, // where the study started
      repos: 100_000,
      out: 'census-2016',
      dataset: `blog:${study}`,
    },
    {
      onProgress: (event) => {
        if (event.type === 'progress') {
          process.stderr.write(`\r${event.listed} listed, ${event.languages} with languages   `);
        }
      },
    },
  );
  const requests = Object.values(manifest.requests).reduce((a, b) => a + b, 0);
  console.log(
    `\n${manifest.counts?.listed} repositories, ${requests} requests, ${manifest.wallMs} ms`,
  );
  const exported = await exportCensus(dir, { format: 'blog' });
  console.log(`the study's files: ${exported.files.join(', ')}`);
} finally {
  await emu.close();
}
