import { ApiError } from '../domain/errors.js';

/**
 * Opaque pagination over a sorted key space. The token encodes the last key returned, so paging stays
 * correct while records are added or removed between pages, and a token is never returned twice (the AWS
 * CLI aborts when it sees the same token again).
 */
export interface PageRequest {
  readonly nextToken?: string | undefined;
  readonly maxResults?: number | undefined;
}
export interface PageLimits {
  /** Page size when maxResults is absent (the model's default, usually 100). */
  readonly defaultSize: number;
  /** The largest maxResults accepted (usually 100). */
  readonly maxSize: number;
  /** Distinguishes tokens of one operation from another's, so a token cannot be replayed elsewhere. */
  readonly scope: string;
  /** Key order of the listing (default ascending). */
  readonly order?: 'asc' | 'desc';
}
export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

export function pageSize(req: PageRequest, limits: PageLimits, invalid: (m: string) => ApiError): number {
  if (req.maxResults === undefined) return limits.defaultSize;
  if (!Number.isInteger(req.maxResults) || req.maxResults < 1 || req.maxResults > limits.maxSize) {
    throw invalid(`maxResults must be between 1 and ${limits.maxSize}; got ${req.maxResults}.`);
  }
  return req.maxResults;
}

export function decodeToken(token: string | undefined, scope: string, invalid: (m: string) => ApiError): string | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 3 && parsed[0] === 1 && parsed[1] === scope && typeof parsed[2] === 'string') {
      return parsed[2];
    }
  } catch {
    /* fall through */
  }
  throw invalid('The nextToken is not valid for this request. Pass the nextToken value from the previous response unchanged.');
}

export function encodeToken(scope: string, lastKey: string): string {
  return Buffer.from(JSON.stringify([1, scope, lastKey]), 'utf8').toString('base64url');
}

/**
 * Pages through `items` (already filtered), ordered by `keyOf`. Items are sorted here so callers can pass
 * any iteration order.
 */
export function paginate<T>(
  items: Iterable<T>,
  keyOf: (item: T) => string,
  req: PageRequest,
  limits: PageLimits,
  invalid: (m: string) => ApiError,
): Page<T> {
  const size = pageSize(req, limits, invalid);
  const after = decodeToken(req.nextToken, limits.scope, invalid);
  const desc = limits.order === 'desc';
  const keyed: [string, T][] = [];
  for (const item of items) {
    const k = keyOf(item);
    if (after === undefined || (desc ? k < after : k > after)) keyed.push([k, item]);
  }
  const dir = desc ? -1 : 1;
  const before = (a: string, b: string) => (a < b ? -dir : a > b ? dir : 0) < 0;
  // Only the first size + 1 items in key order are needed (one more tells whether there is a next page): keep
  // those in a small sorted window instead of sorting everything, so paging through n items costs O(n) per page.
  const window: [string, T][] = [];
  for (const entry of keyed) {
    if (window.length > size && !before(entry[0], window[window.length - 1]![0])) continue;
    let lo = 0;
    let hi = window.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(window[mid]![0], entry[0])) lo = mid + 1;
      else hi = mid;
    }
    window.splice(lo, 0, entry);
    if (window.length > size + 1) window.pop();
  }
  const page = window.slice(0, size);
  const more = window.length > size;
  const last = page.at(-1);
  return more && last ? { items: page.map((p) => p[1]), nextToken: encodeToken(limits.scope, last[0]) } : { items: page.map((p) => p[1]) };
}
