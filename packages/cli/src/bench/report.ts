/**
 * What `forage bench` prints: a table per workload, plain sentences drawn from the measured
 * numbers, and an SVG bar chart of the speedups.
 */
import type { BenchResult, ModeResult, WorkloadResult } from './run.js';
import type { Mode, Workload } from './workloads.js';

const titles: Record<Workload, string> = {
  cpu: 'CPU work: sum of primes',
  io: 'I/O work: HTTP GETs answered after 50 ms',
};

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

const mb = (bytes: number) => (bytes > 0 ? (bytes / 1_048_576).toFixed(0) : '-');

/** The table for one workload, as fixed-width text. */
export function formatTable(w: WorkloadResult, cores: number): string {
  const head = `${titles[w.workload]}, ${w.tasks} tasks, ${w.workers} workers, ${cores} cores`;
  const cols = ['mode', 'warm ms', 'cold ms', 'speedup', 'efficiency', 'run CPU ms', 'peak MB'];
  const widths = [18, 10, 10, 9, 11, 11, 9];
  const row = (cells: string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!, i > 0))
      .join('')
      .trimEnd();
  const lines = [head, row(cols)];
  for (const m of w.modes) {
    lines.push(
      row([
        m.mode,
        m.wallMs.toFixed(1),
        m.coldMs.toFixed(1),
        `${m.speedup.toFixed(2)}x`,
        `${Math.round(m.efficiency * 100)}%`,
        m.cpuMs.toFixed(0),
        mb(m.peakRssBytes),
      ]),
    );
  }
  for (const f of w.failures) lines.push(row([f.mode, 'failed']));
  return lines.join('\n');
}

function find(w: WorkloadResult | undefined, mode: Mode): ModeResult | undefined {
  return w?.modes.find((m) => m.mode === mode);
}

const x = (n: number) => `${n.toFixed(2)}x`;
const ms = (n: number) => `${n < 10 ? n.toFixed(1) : n.toFixed(0)} ms`;

function cpuSentences(w: WorkloadResult, cores: number): string[] {
  const out: string[] = [];
  const threads = find(w, 'threads');
  const processes = find(w, 'processes');
  const asyncMode = find(w, 'async');
  // As the efficiency's parallelism: fewer tasks than cores leave the other cores idle.
  const usable = Math.min(w.workers, cores, w.tasks);
  if (threads && processes) {
    const [best, other] =
      threads.speedup >= processes.speedup ? [threads, processes] : [processes, threads];
    // The speedups are of the warm pass, timed with the workers already started: what can make
    // a pool slower there is the cost per task (sending it to a worker and its result back),
    // not starting the workers (that is in the cold pass, see below).
    const sequential = find(w, 'sequential');
    const perTask =
      sequential && w.tasks > 0
        ? `each task took about ${ms(sequential.wallMs / w.tasks)} sequentially, `
        : '';
    if (best.speedup < 1) {
      out.push(
        `CPU work: neither pool beat sequential on the warm pass, with the workers already started ` +
          `(${best.mode} ${x(best.speedup)}, ${other.mode} ${x(other.speedup)}): ${perTask}too little ` +
          'work to pay for handing each task to a worker and its result back; try --size large.',
      );
    } else {
      out.push(
        `CPU work: ${best.mode} were fastest at ${x(best.speedup)} sequential with ${w.workers} ` +
          `workers (${Math.round(best.efficiency * 100)}% of ${usable} usable cores), ${other.mode} ` +
          `${x(other.speedup)}: both run JavaScript in parallel.`,
      );
      if (best.speedup < 0.7 * usable && usable > 1) {
        out.push(
          `Neither got close to ${usable}x on the warm pass: ${perTask}so handing each task to a ` +
            'worker and its result back weighs against the work (try --size large), or the tasks ' +
            'did not divide evenly between the workers, or the machine was busy.',
        );
      }
    }
  }
  const slowStart = [threads, processes]
    .filter((m): m is ModeResult => m !== undefined)
    .map((m) => `${m.mode} ${m.coldMs.toFixed(0)} ms cold against ${m.wallMs.toFixed(0)} ms warm`);
  if (slowStart.length > 0) {
    out.push(
      `Starting workers is the price of parallelism: ${slowStart.join(', ')} ` +
        '(the cold pass includes creating the pool; a one-shot script pays it every time).',
    );
  }
  if (asyncMode) {
    const verdict =
      asyncMode.speedup < 1.2
        ? 'no faster than sequential, because one event loop runs one computation at a time'
        : 'faster than sequential, which CPU work on one thread cannot be: the machine was likely busy during the sequential runs';
    out.push(`The async executor was ${x(asyncMode.speedup)}: ${verdict}.`);
  }
  if (w.workers > cores) {
    out.push(
      `The cores ran out: ${w.workers} workers share ${cores} cores, so CPU work cannot go beyond ${cores}x.`,
    );
  }
  const pyThreads = find(w, 'python-threads');
  const pyProcesses = find(w, 'python-processes');
  if (pyThreads && pyProcesses) {
    const gil =
      pyThreads.speedup < 1.3
        ? 'the GIL lets only one thread run Python code at a time'
        : 'more than the GIL should allow (is this a free-threaded Python?)';
    out.push(
      `Python threads reached ${x(pyThreads.speedup)} on CPU work: ${gil}; Python processes reached ${x(pyProcesses.speedup)}.`,
    );
  }
  const seq = find(w, 'sequential');
  const pySeq = find(w, 'python-sequential');
  if (seq && pySeq) {
    // Whichever was faster (a python3 that is PyPy can be), by a ratio that keeps a decimal
    // when small: 1.4 rounded to "1x faster" says nothing.
    const ratio = pySeq.wallMs / seq.wallMs;
    const [faster, slower, by] =
      ratio >= 1 ? ['JavaScript', 'Python', ratio] : ['Python', 'JavaScript', 1 / ratio];
    out.push(
      `Sequential ${faster} was ${by < 10 ? by.toFixed(1) : by.toFixed(0)}x faster than sequential ${slower} on the same numbers.`,
    );
  }
  return out;
}

function ioSentences(w: WorkloadResult): string[] {
  const out: string[] = [];
  const pooled = (['async', 'threads', 'processes'] as const)
    .map((mode) => find(w, mode))
    .filter((m): m is ModeResult => m !== undefined);
  if (pooled.length > 0) {
    const best = pooled.reduce((a, b) => (b.speedup > a.speedup ? b : a));
    const parts = pooled.map((m) => `${m.mode} ${x(m.speedup)}`).join(', ');
    out.push(
      `I/O work: ${parts} over sequential with ${w.workers} workers; ${best.mode} won. ` +
        'Waiting overlaps in every mode, so all of them beat one request at a time.',
    );
    const asyncMode = find(w, 'async');
    const heaviest = pooled.reduce((a, b) => (b.peakRssBytes > a.peakRssBytes ? b : a));
    if (asyncMode && heaviest !== asyncMode && asyncMode.peakRssBytes > 0) {
      out.push(
        `The async executor needed no extra threads or processes: ${mb(asyncMode.peakRssBytes)} MB at peak against ` +
          `${mb(heaviest.peakRssBytes)} MB for ${heaviest.mode}.`,
      );
    }
  }
  const pyThreads = find(w, 'python-threads');
  if (pyThreads) {
    out.push(
      `Python threads reached ${x(pyThreads.speedup)} here: the GIL is released while a thread waits for I/O.`,
    );
  }
  return out;
}

/** Plain sentences drawn from the measured numbers: which mode wins, by how much, and why. */
export function explain(result: BenchResult): string[] {
  return result.workloads.flatMap((w) =>
    w.workload === 'cpu' ? cpuSentences(w, result.cores) : ioSentences(w),
  );
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const colours: Record<string, string> = {
  sequential: '#9e9e9e',
  async: '#4caf50',
  threads: '#2196f3',
  processes: '#ff9800',
  'python-sequential': '#bdbdbd',
  'python-threads': '#90caf9',
  'python-processes': '#ffcc80',
};

/** A horizontal bar chart of speedup over sequential, one group per workload. */
export function chartSvg(result: BenchResult): string {
  const barH = 18;
  const gap = 6;
  const left = 150;
  const width = 640;
  const plotW = width - left - 60;
  const max = Math.max(1, ...result.workloads.flatMap((w) => w.modes.map((m) => m.speedup)));
  const parts: string[] = [];
  let y = 30;
  for (const w of result.workloads) {
    parts.push(
      `<text x="10" y="${y}" font-weight="bold">${escapeXml(titles[w.workload])} (${w.workers} workers)</text>`,
    );
    y += 10;
    for (const m of w.modes) {
      const len = (m.speedup / max) * plotW;
      parts.push(
        `<text x="${left - 8}" y="${y + barH - 5}" text-anchor="end">${escapeXml(m.mode)}</text>`,
        `<rect x="${left}" y="${y}" width="${len.toFixed(1)}" height="${barH}" fill="${colours[m.mode] ?? '#607d8b'}"/>`,
        `<text x="${(left + len + 4).toFixed(1)}" y="${y + barH - 5}">${m.speedup.toFixed(2)}x</text>`,
      );
      y += barH + gap;
    }
    y += 24;
  }
  const height = y;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, sans-serif" font-size="12">`,
    `<title>Speedup over sequential, ${result.cores} cores, Node ${escapeXml(result.node)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
