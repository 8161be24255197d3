import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The 2016 study's `lang_data.jsonl`, read from the workplace's shared data: FORAGE_SHARED_DATA
 * when set (`scripts/run-tests.mjs` sets it: `../shared/data` beside the repository, or the
 * workplace's `/work/shared/data`).
 */
export const STUDY_FILE = join(
  process.env.FORAGE_SHARED_DATA ??
    fileURLToPath(new URL('../../../../shared/data/', import.meta.url)),
  'github-2016',
  'lang_data.jsonl',
);

if (!existsSync(STUDY_FILE)) {
  throw new Error(
    `the 2016 study's data is not at ${STUDY_FILE}: set FORAGE_SHARED_DATA to the directory holding github-2016/ (scripts/run-tests.mjs looks beside the repository and in /work/shared/data)`,
  );
}
