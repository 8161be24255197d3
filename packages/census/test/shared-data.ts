import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The 2016 study's `lang_data.jsonl`, read from the workplace's shared data: FORAGE_SHARED_DATA
 * when set (`.ci/run` sets it wherever the clone is), else `../shared/data` beside the repository.
 */
export const STUDY_FILE = join(
  process.env.FORAGE_SHARED_DATA ??
    fileURLToPath(new URL('../../../../shared/data/', import.meta.url)),
  'github-2016',
  'lang_data.jsonl',
);
