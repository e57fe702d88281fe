/**
 * Container logs as the engine streams them. Without a TTY, stdout and stderr are multiplexed into frames
 * of `[stream, 0, 0, 0, size(4, big-endian)] + payload`; with a TTY the stream is raw (all stdout). Frames
 * and lines don't line up: a frame may carry several lines or part of one, and a header may be split across
 * chunks. Lines are therefore reassembled per stream and emitted whole, each with the timestamp the engine
 * prefixes when asked (`timestamps=1`).
 */
import type { LogLine } from '../runtime.js';

const HEADER = 8;
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

export interface DemuxOptions {
  /** The container has no TTY, so the stream is framed. */
  readonly multiplexed: boolean;
  /** The request asked for `timestamps=1`: each log message starts with an RFC 3339 time and a space. */
  readonly timestamps: boolean;
  /** Stamps lines that carry no timestamp. */
  readonly now?: () => number;
}

export class LogDemuxer {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly partial: Record<LogLine['stream'], { text: string; time?: number }> = { stdout: { text: '' }, stderr: { text: '' } };
  private readonly now: () => number;

  constructor(private readonly opts: DemuxOptions) {
    this.now = opts.now ?? Date.now;
  }

  push(chunk: Buffer): LogLine[] {
    const out: LogLine[] = [];
    if (!this.opts.multiplexed) {
      this.rawText(chunk.toString('utf8'), out);
      return out;
    }
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    let offset = 0;
    while (this.buffered.length - offset >= HEADER) {
      const kind = this.buffered[offset]!;
      const size = this.buffered.readUInt32BE(offset + 4);
      if (this.buffered.length - offset < HEADER + size) break;
      const payload = this.buffered.subarray(offset + HEADER, offset + HEADER + size).toString('utf8');
      // 0 is stdin (never sent for logs); 3 is the engine's own error text on attach streams: keep it visible.
      this.frame(kind === 1 ? 'stdout' : 'stderr', payload, out);
      offset += HEADER + size;
    }
    this.buffered = this.buffered.subarray(offset);
    return out;
  }

  /** The stream ended: whatever is left is a last line without its newline. */
  end(): LogLine[] {
    const out: LogLine[] = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.partial[stream];
      if (p.text) out.push(this.opts.multiplexed ? { stream, time: p.time ?? this.now(), line: p.text } : this.stamped(stream, p.text));
      this.partial[stream] = { text: '' };
    }
    return out;
  }

  /**
   * One frame is one log message, so its timestamp leads the frame. A message longer than the engine's
   * buffer arrives as several frames, each stamped: the line keeps its first fragment's time.
   */
  private frame(stream: LogLine['stream'], payload: string, out: LogLine[]): void {
    let text = payload;
    let time: number | undefined;
    if (this.opts.timestamps) {
      const ts = TIMESTAMP.exec(text);
      if (ts) {
        text = text.slice(ts[0].length);
        time = Date.parse(ts[1]!);
      }
    }
    const p = this.partial[stream];
    const parts = (p.text + text).split('\n');
    const rest = parts.pop()!;
    let lineTime = p.time ?? time;
    for (const line of parts) {
      out.push({ stream, time: lineTime ?? this.now(), line: stripCr(line) });
      lineTime = time;
    }
    this.partial[stream] = rest ? { text: rest, ...(lineTime !== undefined ? { time: lineTime } : {}) } : { text: '' };
  }

  /** TTY output is one byte stream with no message boundaries: split lines first, then read each one's time. */
  private rawText(text: string, out: LogLine[]): void {
    const parts = (this.partial.stdout.text + text).split('\n');
    this.partial.stdout = { text: parts.pop()! };
    for (const p of parts) out.push(this.stamped('stdout', p));
  }

  private stamped(stream: LogLine['stream'], raw: string): LogLine {
    const text = stripCr(raw);
    const ts = this.opts.timestamps ? TIMESTAMP.exec(text) : null;
    if (ts) {
      const time = Date.parse(ts[1]!);
      if (!Number.isNaN(time)) return { stream, time, line: text.slice(ts[0].length) };
    }
    return { stream, time: this.now(), line: text };
  }
}

const stripCr = (s: string): string => (s.endsWith('\r') ? s.slice(0, -1) : s);

/** Demultiplexes a whole log stream into lines. */
export async function* demuxLogs(chunks: AsyncIterable<Buffer>, opts: DemuxOptions): AsyncGenerator<LogLine> {
  const demuxer = new LogDemuxer(opts);
  for await (const chunk of chunks) yield* demuxer.push(chunk);
  yield* demuxer.end();
}
