/**
 * The engine's streamed JSON: image pull/import progress and `/events` are sequences of JSON objects, one
 * per line, arriving in arbitrary chunks. Pull progress is then summarised into what the agent needs: the
 * manifest digest, or the error the registry gave (which arrives inside a 200 stream, not as a status).
 */
import { RuntimeError } from '../runtime.js';

/** Parses newline-delimited JSON from a byte stream, whatever the chunk boundaries. */
export async function* jsonMessages(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  let pending = '';
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line) yield parseLine(line);
    }
  }
  const last = pending.trim();
  if (last) yield parseLine(last);
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return { error: `unreadable message from the Docker engine: ${line.slice(0, 200)}` };
  }
}

/** One message of the pull (`POST /images/create`) progress stream. */
export interface PullMessage {
  readonly status?: string;
  readonly id?: string;
  readonly progress?: string;
  readonly progressDetail?: { current?: number; total?: number };
  readonly error?: string;
  readonly errorDetail?: { message?: string; code?: number };
}

export interface PullSummary {
  /** `sha256:…` of the manifest, when the registry sent one (imports have none). */
  readonly digest?: string;
  /** The last status line (`Status: Downloaded newer image for …`, `Status: Image is up to date …`). */
  readonly status?: string;
  /** Layers seen, by id, with their last status: for progress logging. */
  readonly layers: ReadonlyMap<string, string>;
}

/**
 * Folds a pull stream into its summary. An error message anywhere in the stream fails the pull with
 * CannotPullContainerError, as ECS reports it; `onProgress` sees every message (for debug logging).
 */
export async function summarisePull(
  messages: AsyncIterable<unknown>,
  image: string,
  onProgress?: (m: PullMessage) => void,
): Promise<PullSummary> {
  let digest: string | undefined;
  let status: string | undefined;
  const layers = new Map<string, string>();
  for await (const raw of messages) {
    const m = (raw ?? {}) as PullMessage;
    onProgress?.(m);
    const error = m.errorDetail?.message ?? m.error;
    if (error) throw new RuntimeError('CannotPullContainerError', `pull image ${image}: ${error}`);
    if (typeof m.status !== 'string') continue;
    if (m.id && !m.status.startsWith('Digest:') && !m.status.startsWith('Status:')) layers.set(m.id, m.status);
    const d = /^Digest: (sha256:[0-9a-f]{64})/.exec(m.status);
    if (d) digest = d[1];
    if (m.status.startsWith('Status:')) status = m.status;
  }
  return { ...(digest ? { digest } : {}), ...(status ? { status } : {}), layers };
}

/**
 * Splits an image reference into the `fromImage` and `tag` query parameters of a pull. An empty tag would
 * make the engine pull every tag of the repository, so a reference without one means `latest`.
 */
export function splitImageReference(image: string): { repository: string; tag: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { repository: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(':');
  // A colon before the last slash is a registry port (`localhost:5000/app`), not a tag.
  if (colon > image.lastIndexOf('/')) return { repository: image.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: image, tag: 'latest' };
}
