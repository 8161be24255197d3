// workerpool's worker script: registers the benchmark tasks by name.
import workerpool from 'workerpool';
import { inc, incChunk, sumPrimes } from './tasks.mjs';

workerpool.worker({ inc, incChunk, sumPrimes });
