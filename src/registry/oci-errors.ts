/**
 * The OCI distribution error codes (spec "Error Codes") and the one mapping from Gantry's errors to them.
 * The registry core throws ApiError with ECR exception names (the ECR API sends those as they are); the
 * OCI route turns them into `{"errors":[{code,message,detail}]}` here and nowhere else. Where the same ECR
 * error means different OCI codes depending on the request (a missing blob is BLOB_UNKNOWN on a GET but
 * MANIFEST_BLOB_UNKNOWN on a manifest PUT), the core attaches a hint with `ociHint`.
 */
import { ApiError } from '../domain/errors.js';

export type OciCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'TAG_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'RANGE_INVALID'
  | 'UNKNOWN';

/** An error already in OCI terms (thrown by the route itself: bad request shapes, ranges, authentication). */
export class OciError extends Error {
  override name = 'OciError';
  constructor(
    readonly code: OciCode,
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly detail?: unknown,
  ) {
    super(message);
  }
}

const hints = new WeakMap<ApiError, { code: OciCode; status: number }>();

/** Marks how an ECR error reads on the OCI wire in this context; returns the error for `throw`. */
export function ociHint(e: ApiError, code: OciCode, status: number): ApiError {
  hints.set(e, { code, status });
  return e;
}

const BY_ECR_CODE: Readonly<Record<string, { code: OciCode; status: number }>> = {
  RepositoryNotFoundException: { code: 'NAME_UNKNOWN', status: 404 },
  ImageNotFoundException: { code: 'MANIFEST_UNKNOWN', status: 404 },
  LayersNotFoundException: { code: 'BLOB_UNKNOWN', status: 404 },
  ReferencedImagesNotFoundException: { code: 'MANIFEST_BLOB_UNKNOWN', status: 400 },
  ImageDigestDoesNotMatchException: { code: 'DIGEST_INVALID', status: 400 },
  InvalidLayerException: { code: 'DIGEST_INVALID', status: 400 },
  UploadNotFoundException: { code: 'BLOB_UPLOAD_UNKNOWN', status: 404 },
  InvalidLayerPartException: { code: 'BLOB_UPLOAD_INVALID', status: 416 },
  EmptyUploadException: { code: 'BLOB_UPLOAD_INVALID', status: 400 },
  ImageTagAlreadyExistsException: { code: 'TAG_INVALID', status: 400 },
  AccessDeniedException: { code: 'DENIED', status: 403 },
  LimitExceededException: { code: 'SIZE_INVALID', status: 400 },
  UnsupportedImageTypeException: { code: 'UNSUPPORTED', status: 415 },
  InvalidParameterException: { code: 'UNSUPPORTED', status: 400 },
  ThrottlingException: { code: 'TOOMANYREQUESTS', status: 429 },
};

export function toOciError(e: unknown): OciError {
  if (e instanceof OciError) return e;
  if (e instanceof ApiError) {
    const m = hints.get(e) ?? BY_ECR_CODE[e.code] ?? { code: 'UNKNOWN' as const, status: e.fault === 'server' ? 500 : 400 };
    return new OciError(m.code, m.status, e.message);
  }
  return new OciError('UNKNOWN', 500, 'internal error');
}

export function ociErrorBody(e: OciError): string {
  return JSON.stringify({ errors: [{ code: e.code, message: e.message, ...(e.detail !== undefined ? { detail: e.detail } : {}) }] });
}
