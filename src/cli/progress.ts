/**
 * Upload progress on stderr. On a terminal: one line, redrawn at most ten times
 * a second and cleared at the end. Elsewhere (when asked): a plain line about
 * once a second and one at the end.
 */
export interface ProgressDisplay {
  update(loaded: number, total: number | undefined): void;
  /** The whole body has been handed to the kernel: shows "waiting for response" until the next update or the end. */
  waiting(): void;
  /** Clears the bar (or prints the last line); safe to call more than once. */
  finish(): void;
}

export interface ProgressOptions {
  stream: NodeJS.WriteStream;
  /** `bar` redraws one line (a TTY), `lines` prints plain lines. */
  style: 'bar' | 'lines';
  /** Milliseconds between updates. */
  interval?: number;
  now?: () => number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.ceil(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/** Below this, a rate is mostly noise (the first bytes are the headers): rate and ETA show as `--`. */
const SETTLE_MS = 250;

/** The words of a progress line: bytes, percent, rate and time left (or, once the body is all handed over, "waiting for response"). */
export function describeProgress(
  loaded: number,
  total: number | undefined,
  elapsedMs: number,
  waiting = false,
): string {
  if (waiting)
    return total === undefined
      ? `${formatBytes(loaded)}  waiting for response`
      : `${String(total === 0 ? 100 : Math.floor((loaded / total) * 100)).padStart(3)}%  ${formatBytes(loaded)} / ${formatBytes(total)}  waiting for response`;
  const settled = elapsedMs >= SETTLE_MS || (total !== undefined && loaded >= total);
  const rate = settled && elapsedMs > 0 ? (loaded / elapsedMs) * 1000 : 0;
  const speed = settled ? `${formatBytes(Math.round(rate))}/s` : '-- B/s';
  if (total === undefined) return `${formatBytes(loaded)}  ${speed}`;
  const percent = total === 0 ? 100 : Math.floor((loaded / total) * 100);
  const eta = rate > 0 ? (total - loaded) / rate : Infinity;
  return `${String(percent).padStart(3)}%  ${formatBytes(loaded)} / ${formatBytes(total)}  ${speed}  ETA ${loaded >= total ? '0s' : formatSeconds(eta)}`;
}

export function createProgress({
  stream,
  style,
  interval = style === 'bar' ? 100 : 1000,
  now = Date.now,
}: ProgressOptions): ProgressDisplay {
  const started = now();
  let last = -Infinity;
  let latest: [number, number | undefined] = [0, undefined];
  let finished = false;
  let waiting = false;

  const render = () => {
    const [loaded, total] = latest;
    const words = describeProgress(loaded, total, now() - started, waiting);
    if (style === 'lines') {
      stream.write(`upload ${words.trim()}\n`);
      return;
    }
    const columns = stream.columns || 80;
    const room = columns - words.length - 4;
    const bar =
      total === undefined || room < 10
        ? ''
        : (() => {
            const width = Math.min(room, 40);
            const filled = total === 0 ? width : Math.floor((loaded / total) * width);
            return `[${'='.repeat(Math.max(filled - 1, 0))}${filled > 0 ? (filled === width ? '=' : '>') : ''}${' '.repeat(width - filled)}] `;
          })();
    stream.write(`\r${bar}${words}\x1b[K`);
  };

  return {
    update(loaded, total) {
      if (loaded < latest[0]) waiting = false; // sent again (a redirect or a retry)
      latest = [loaded, total];
      const time = now();
      if (time - last >= interval) {
        last = time;
        render();
      }
    },
    waiting() {
      if (finished || waiting) return;
      waiting = true;
      last = now();
      render();
    },
    finish() {
      if (finished) return;
      finished = true;
      waiting = false;
      if (style === 'lines') render();
      else stream.write('\r\x1b[K');
    },
  };
}
