/**
 * Botocore service models (documentation stripped) and generic input validation against them.
 *
 * The JS SDK serialises whatever it is given, so every operation's input is type-checked here before any handler
 * sees it. Two classes of failure, mirroring AWS's Coral services:
 *  - a JSON value of the wrong kind cannot be deserialised at all → `SerializationException`, thrown at the first
 *    occurrence (deserialisation stops there on AWS too);
 *  - a well-typed value that breaks a constraint (required, enum, length, range, pattern) → collected across the whole
 *    input and reported at once in AWS's "N validation errors detected: …" format, with the model's validation
 *    exception (InvalidParameterException for ECS and ECR).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError, Ecs, Protocol } from '../../domain/errors.js';

export interface ServiceModel {
  readonly targetPrefix: string;
  readonly signingName: string;
  readonly serviceId: string;
  readonly apiVersion: string;
  readonly operations: ReadonlySet<string>;
  /** Builds the exception for constraint violations ("N validation errors detected: …"). */
  readonly validationError: (message: string) => ApiError;
}

export interface LoadOptions {
  /** Defaults to InvalidParameterException when the model defines it (ECS and ECR both do), else ValidationException. */
  readonly validationError?: (message: string) => ApiError;
}

// ---------------------------------------------------------------------------------------------------------------
// Raw model shape (only the parts validation needs)

interface RawRef { readonly shape: string }
interface RawShape {
  readonly type: string;
  readonly members?: Readonly<Record<string, RawRef>>;
  readonly required?: readonly string[];
  readonly member?: RawRef;
  readonly key?: RawRef;
  readonly value?: RawRef;
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly sensitive?: boolean;
  readonly document?: boolean;
}
interface RawOperation { readonly input?: RawRef; readonly errors?: readonly RawRef[] }
interface RawModel {
  readonly metadata: { readonly targetPrefix?: string; readonly signingName?: string; readonly endpointPrefix?: string; readonly serviceId?: string; readonly apiVersion?: string; readonly uid?: string };
  readonly operations: Readonly<Record<string, RawOperation>>;
  readonly shapes: Readonly<Record<string, RawShape>>;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation context: the path is kept as a mutable segment stack and rendered only when something fails, so a
// successful validation builds no path strings at all.

class MapKey { constructor(readonly key: string) {} }
type Segment = string | number | MapKey;

/** A pathological body (thousands of bad list items) must not produce a megabyte of error message. */
const MAX_LISTED = 25;

class Ctx {
  readonly segs: Segment[] = [];
  violations: string[] | undefined;
  violationCount = 0;

  path(): string {
    let out = '';
    for (const s of this.segs) {
      if (typeof s === 'number') out += `[${s}]`;
      else if (s instanceof MapKey) out += `[${JSON.stringify(s.key)}]`;
      else out += out === '' ? s : `.${s}`;
    }
    return out;
  }

  violation(shownValue: string, constraint: string): void {
    if (++this.violationCount > MAX_LISTED) return;
    (this.violations ??= []).push(`${shownValue} at '${this.path()}' failed to satisfy constraint: ${constraint}`);
  }
}

type Validator = (value: unknown, ctx: Ctx) => void;

const MAX_SHOWN = 100;
const REDACTED = "Value '*** Sensitive Data Redacted ***'";

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'string': return 'a string';
    case 'number': return 'a number';
    case 'boolean': return 'a boolean';
    case 'object': return 'an object';
    default: return typeof value;
  }
}

function clip(s: string): string {
  return s.length > MAX_SHOWN ? `${s.slice(0, MAX_SHOWN)}…` : s;
}

function show(value: unknown, sensitive: boolean): string {
  if (sensitive) return REDACTED;
  if (value === null || value === undefined) return 'Value null';
  if (typeof value === 'string') return `Value '${clip(value)}'`;
  if (typeof value === 'object') return `Value '${clip(JSON.stringify(value))}'`;
  return `Value '${String(value)}'`;
}

function typeError(ctx: Ctx, expected: string, value: unknown, detail = ''): never {
  const got = typeof value === 'number' || typeof value === 'boolean' ? `${kindOf(value)} (${String(value)})` : kindOf(value);
  throw Protocol.serialization(`Expected ${expected} at '${ctx.path()}', got ${got}${detail}.`);
}

// ---------------------------------------------------------------------------------------------------------------
// Shape compilers

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function lengthChecks(ctx: Ctx, value: unknown, length: number, shape: RawShape, sensitive: boolean): void {
  if (shape.min !== undefined && length < shape.min) ctx.violation(show(value, sensitive), `Member must have length greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && length > shape.max) ctx.violation(show(value, sensitive), `Member must have length less than or equal to ${shape.max}`);
}

/** Blobs are shown by size: echoing megabytes of base64 helps nobody. */
function blobLengthChecks(ctx: Ctx, bytes: number, shape: RawShape): void {
  const shown = `Value '<${bytes} bytes>'`;
  if (shape.min !== undefined && bytes < shape.min) ctx.violation(shown, `Member must have length greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && bytes > shape.max) ctx.violation(shown, `Member must have length less than or equal to ${shape.max}`);
}

function rangeChecks(ctx: Ctx, value: number, shape: RawShape, sensitive: boolean): void {
  if (shape.min !== undefined && value < shape.min) ctx.violation(show(value, sensitive), `Member must have value greater than or equal to ${shape.min}`);
  if (shape.max !== undefined && value > shape.max) ctx.violation(show(value, sensitive), `Member must have value less than or equal to ${shape.max}`);
}

/**
 * Botocore patterns are Java regexes applied with `Matcher.matches()`, i.e. to the whole string, hence the anchors.
 * `\p{…}` classes only exist in JS under the `u` flag, which is stricter about escapes, so it is used only when needed.
 * A pattern JS cannot compile is skipped: better to accept a value AWS might reject than to reject valid input.
 */
function compilePattern(pattern: string): RegExp | undefined {
  const flags = /\\[pP]\{/.test(pattern) ? 'u' : '';
  try {
    return new RegExp(`^(?:${pattern})$`, flags);
  } catch {
    return undefined;
  }
}

function stringValidator(shape: RawShape): Validator {
  const sensitive = shape.sensitive === true;
  const values = shape.enum !== undefined && shape.enum.length > 0 ? new Set(shape.enum) : undefined;
  const enumText = shape.enum?.join(', ') ?? '';
  const re = shape.pattern === undefined ? undefined : compilePattern(shape.pattern);
  const sized = shape.min !== undefined || shape.max !== undefined;
  return (value, ctx) => {
    if (typeof value !== 'string') typeError(ctx, 'a string', value);
    if (values !== undefined && !values.has(value)) ctx.violation(show(value, sensitive), `Member must satisfy enum value set: [${enumText}]`);
    if (sized) lengthChecks(ctx, value, value.length, shape, sensitive);
    if (re !== undefined && !re.test(value)) ctx.violation(show(value, sensitive), `Member must satisfy regular expression pattern: ${shape.pattern ?? ''}`);
  };
}

function integerValidator(shape: RawShape, long: boolean): Validator {
  const sensitive = shape.sensitive === true;
  const ranged = shape.min !== undefined || shape.max !== undefined;
  const expected = long ? 'a long integer' : 'an integer';
  return (value, ctx) => {
    if (typeof value !== 'number') typeError(ctx, expected, value);
    if (!Number.isInteger(value)) typeError(ctx, expected, value);
    if (long ? !Number.isSafeInteger(value) : value < INT32_MIN || value > INT32_MAX) {
      typeError(ctx, expected, value, long
        ? `, outside the exactly representable range -${Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`
        : `, outside the 32-bit range ${INT32_MIN} to ${INT32_MAX}`);
    }
    if (ranged) rangeChecks(ctx, value, shape, sensitive);
  };
}

/** The AWS JSON protocol sends non-finite doubles as these strings (the JS SDK's serializeFloat does). */
const NON_FINITE = new Set(['NaN', 'Infinity', '-Infinity']);

function floatValidator(shape: RawShape): Validator {
  const sensitive = shape.sensitive === true;
  const ranged = shape.min !== undefined || shape.max !== undefined;
  return (value, ctx) => {
    if (typeof value === 'number') {
      if (ranged) rangeChecks(ctx, value, shape, sensitive);
      return;
    }
    if (typeof value === 'string' && NON_FINITE.has(value)) {
      if (ranged && value !== 'NaN') rangeChecks(ctx, Number(value), shape, sensitive);
      return;
    }
    typeError(ctx, 'a number', value);
  };
}

function booleanValidator(): Validator {
  return (value, ctx) => {
    if (typeof value !== 'boolean') typeError(ctx, 'a boolean', value);
  };
}

/** Epoch seconds are the protocol's format; ISO-8601 strings are tolerated because some hand-written clients send them. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function timestampValidator(): Validator {
  return (value, ctx) => {
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) typeError(ctx, 'a timestamp (epoch seconds)', value);
      return;
    }
    if (typeof value === 'string') {
      if (!ISO_8601.test(value) || Number.isNaN(Date.parse(value))) {
        throw Protocol.serialization(`Expected a timestamp (epoch seconds or ISO-8601) at '${ctx.path()}', got the string '${clip(value)}'.`);
      }
      return;
    }
    typeError(ctx, 'a timestamp (epoch seconds)', value);
  };
}

/**
 * Returns the decoded byte length of a base64 string, or -1 if it is not base64. A hand loop rather than a regex:
 * layer parts are up to 20 MiB, and a backtracking regex over ~27 MB of text risks exhausting the regex stack.
 */
function base64Length(s: string): number {
  let n = s.length;
  let pad = 0;
  while (n > 0 && s.charCodeAt(n - 1) === 61 /* = */) { n--; pad++; }
  if (pad > 2) return -1;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47;
    if (!ok) return -1;
  }
  if (pad > 0 ? s.length % 4 !== 0 : n % 4 === 1) return -1;
  return Math.floor((n * 3) / 4);
}

function blobValidator(shape: RawShape): Validator {
  const sized = shape.min !== undefined || shape.max !== undefined;
  return (value, ctx) => {
    if (typeof value !== 'string') typeError(ctx, 'a base64-encoded string', value);
    const bytes = base64Length(value);
    if (bytes < 0) throw Protocol.serialization(`Expected a base64-encoded string at '${ctx.path()}', got invalid base64.`);
    if (sized) blobLengthChecks(ctx, bytes, shape);
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled model

interface Compiled {
  readonly raw: RawModel;
  readonly validators: Map<string, Validator>;
  readonly inputs: Map<string, Validator | null>;
  readonly errors: ReadonlyMap<string, readonly string[]>;
}

function compileShape(c: Compiled, name: string): Validator {
  const cached = c.validators.get(name);
  if (cached !== undefined) return cached;
  const shape = c.raw.shapes[name];
  if (shape === undefined) throw new Error(`service model refers to unknown shape ${name}`);
  // A forwarder stands in while the shape compiles so recursive shapes terminate; only validators built inside the
  // cycle keep the extra hop, everything compiled later gets the real closure.
  let impl: Validator | undefined;
  c.validators.set(name, (value, ctx) => (impl as Validator)(value, ctx));
  impl = buildShape(c, shape);
  c.validators.set(name, impl);
  return impl;
}

function buildShape(c: Compiled, shape: RawShape): Validator {
  switch (shape.type) {
    case 'string': return stringValidator(shape);
    case 'integer': return integerValidator(shape, false);
    case 'long': return integerValidator(shape, true);
    case 'float':
    case 'double': return floatValidator(shape);
    case 'boolean': return booleanValidator();
    case 'timestamp': return timestampValidator();
    case 'blob': return blobValidator(shape);
    case 'list': return listValidator(c, shape);
    case 'map': return mapValidator(c, shape);
    case 'structure': return shape.document === true ? () => {} : structureValidator(c, shape);
    default: return () => {}; // an unknown future type: accept rather than break every operation that uses it
  }
}

function listValidator(c: Compiled, shape: RawShape): Validator {
  if (shape.member === undefined) throw new Error('list shape without member');
  const member = compileShape(c, shape.member.shape);
  const sized = shape.min !== undefined || shape.max !== undefined;
  const sensitive = shape.sensitive === true;
  return (value, ctx) => {
    if (!Array.isArray(value)) typeError(ctx, 'a list', value);
    if (sized) lengthChecks(ctx, value, value.length, shape, sensitive);
    const segs = ctx.segs;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      segs.push(i);
      if (item === null || item === undefined) ctx.violation('Value null', 'Member must not be null');
      else member(item, ctx);
      segs.pop();
    }
  };
}

function mapValidator(c: Compiled, shape: RawShape): Validator {
  if (shape.key === undefined || shape.value === undefined) throw new Error('map shape without key or value');
  const keyV = compileShape(c, shape.key.shape);
  const valueV = compileShape(c, shape.value.shape);
  const sized = shape.min !== undefined || shape.max !== undefined;
  const sensitive = shape.sensitive === true;
  return (value, ctx) => {
    if (!isRecord(value)) typeError(ctx, 'an object (map)', value);
    const segs = ctx.segs;
    let count = 0;
    for (const k in value) {
      count++;
      // Key constraints are reported at the map's own path, the offending key being shown as the value.
      keyV(k, ctx);
      const v = value[k];
      segs.push(new MapKey(k));
      if (v === null || v === undefined) ctx.violation('Value null', 'Member must not be null');
      else valueV(v, ctx);
      segs.pop();
    }
    if (sized) lengthChecks(ctx, value, count, shape, sensitive);
  };
}

function structureValidator(c: Compiled, shape: RawShape): Validator {
  // Dispatch on the input's keys rather than the model's members: bodies are sparse (ContainerDefinition has ~45
  // members, a typical one sets a handful), and unknown keys are skipped without a second lookup.
  const members = new Map<string, Validator>();
  for (const [name, ref] of Object.entries(shape.members ?? {})) members.set(name, compileShape(c, ref.shape));
  const required = [...(shape.required ?? [])];
  return (value, ctx) => {
    if (!isRecord(value)) typeError(ctx, 'an object (structure)', value);
    const segs = ctx.segs;
    for (const k in value) {
      const validate = members.get(k);
      if (validate === undefined) continue; // AWS drops unknown members silently
      const v = value[k];
      if (v === null || v === undefined) continue; // null means absent
      segs.push(k);
      validate(v, ctx);
      segs.pop();
    }
    for (let i = 0; i < required.length; i++) {
      const name = required[i] as string;
      // hasOwn: a member named like an Object.prototype property must not be satisfied by inheritance
      const v = Object.hasOwn(value, name) ? value[name] : undefined;
      if (v === null || v === undefined) {
        segs.push(name);
        ctx.violation('Value null', 'Member must not be null');
        segs.pop();
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

const compiledByPath = new Map<string, Compiled>();
const defaultModelByPath = new Map<string, ServiceModel>();
const internals = new WeakMap<ServiceModel, Compiled>();

/**
 * Enum values a service accepts although its published model leaves them out, by model uid and shape. Only what
 * the real service is known to accept belongs here. ECS takes logDriver 'none' for tasks on EC2 instances (the
 * ECS agent lists it among ECS_AVAILABLE_LOGGING_DRIVERS, aws-cdk's LogDriver.none() synthesizes it, and
 * Gantry's agent advertises logging-driver.none), yet the model's LogDriver enum names only eight drivers.
 */
const ENUM_VALUES_THE_MODEL_OMITS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'ecs-2014-11-13': { LogDriver: ['none'] },
};

function compile(path: string): Compiled {
  let c = compiledByPath.get(path);
  if (c !== undefined) return c;
  const raw = JSON.parse(readFileSync(path, 'utf8')) as RawModel;
  if (typeof raw !== 'object' || raw === null || typeof raw.operations !== 'object' || typeof raw.shapes !== 'object') {
    throw new Error(`${path} is not a botocore service model`);
  }
  mergeExtensions(raw, path.replace(/\.json$/, '.gantry.json'));
  for (const [shape, extra] of Object.entries(ENUM_VALUES_THE_MODEL_OMITS[raw.metadata.uid ?? ''] ?? {})) {
    const s = raw.shapes[shape];
    if (s?.enum !== undefined) (raw.shapes as Record<string, RawShape>)[shape] = { ...s, enum: [...s.enum, ...extra.filter((v) => !s.enum!.includes(v))] };
  }
  const errors = new Map<string, readonly string[]>();
  for (const [name, op] of Object.entries(raw.operations)) errors.set(name, Object.freeze((op.errors ?? []).map((e) => e.shape)));
  c = { raw, validators: new Map(), inputs: new Map(), errors };
  compiledByPath.set(path, c);
  return c;
}

/**
 * Gantry's own operations for a service (e.g. models/ecs.gantry.json: ExplainPlacement), in the same protocol:
 * merged into the model so they are routed, validated and signed like the service's own. An extension may add
 * operations and shapes, never replace one of the model's.
 */
function mergeExtensions(raw: RawModel, extensionPath: string): void {
  if (!existsSync(extensionPath)) return;
  const ext = JSON.parse(readFileSync(extensionPath, 'utf8')) as Partial<Pick<RawModel, 'operations' | 'shapes'>>;
  const ops = raw.operations as Record<string, unknown>;
  const shapes = raw.shapes as Record<string, unknown>;
  for (const [name, op] of Object.entries(ext.operations ?? {})) {
    if (name in ops) throw new Error(`${extensionPath}: operation ${name} is already in the model`);
    ops[name] = op;
  }
  for (const [name, shape] of Object.entries(ext.shapes ?? {})) {
    if (name in shapes) throw new Error(`${extensionPath}: shape ${name} is already in the model`);
    shapes[name] = shape;
  }
}

function defaultValidationError(raw: RawModel): (message: string) => ApiError {
  if (raw.shapes['InvalidParameterException'] !== undefined) return (message) => Ecs.invalidParameter(message);
  return (message) => new ApiError('ValidationException', message);
}

/** Reads and indexes a model once per path; shapes are compiled lazily, on the first request that needs them. */
export function loadServiceModel(path: string, options: LoadOptions = {}): ServiceModel {
  const abs = resolve(path);
  if (options.validationError === undefined) {
    const cached = defaultModelByPath.get(abs);
    if (cached !== undefined) return cached;
  }
  const c = compile(abs);
  const md = c.raw.metadata;
  const model: ServiceModel = Object.freeze({
    targetPrefix: md.targetPrefix ?? '',
    signingName: md.signingName ?? md.endpointPrefix ?? '',
    serviceId: md.serviceId ?? '',
    apiVersion: md.apiVersion ?? '',
    operations: new Set(Object.keys(c.raw.operations)) as ReadonlySet<string>,
    validationError: options.validationError ?? defaultValidationError(c.raw),
  });
  internals.set(model, c);
  if (options.validationError === undefined) defaultModelByPath.set(abs, model);
  return model;
}

function internal(model: ServiceModel): Compiled {
  const c = internals.get(model);
  if (c === undefined) throw new TypeError('not a ServiceModel returned by loadServiceModel');
  return c;
}

function inputValidator(c: Compiled, operation: string): Validator | null | undefined {
  const hit = c.inputs.get(operation);
  if (hit !== undefined) return hit;
  const op = c.raw.operations[operation];
  if (op === undefined) return undefined;
  const v = op.input === undefined ? null : compileShape(c, op.input.shape);
  c.inputs.set(operation, v);
  return v;
}

/**
 * Checks an already-parsed request body against the operation's input shape. Throws `SerializationException` for
 * values of the wrong JSON type and the model's validation exception for constraint violations. Unknown operations
 * pass: routing reports those.
 */
export function validateInput(model: ServiceModel, operation: string, input: unknown): void {
  const c = internal(model);
  const v = inputValidator(c, operation);
  if (v === undefined) return;
  if (!isRecord(input)) throw Protocol.serialization(`Expected a JSON object as the request body, got ${kindOf(input)}.`);
  if (v === null) return;
  const ctx = new Ctx();
  v(input, ctx);
  const found = ctx.violations;
  if (found !== undefined) {
    const n = ctx.violationCount;
    const more = n > found.length ? `; and ${n - found.length} more` : '';
    throw model.validationError(`${n} validation error${n === 1 ? '' : 's'} detected: ${found.join('; ')}${more}`);
  }
}

/** The exception names the model lists for an operation (empty for an unknown operation). */
export function errorNamesOf(model: ServiceModel, operation: string): readonly string[] {
  return internal(model).errors.get(operation) ?? [];
}

let packageRoot: string | undefined;

/** `<package root>/models/<name>.json`, found by walking up from this file, so it works from dist/ and from .build/. */
export function modelPath(name: 'ecs' | 'ecr'): string {
  if (packageRoot === undefined) {
    let dir = dirname(fileURLToPath(import.meta.url));
    for (;;) {
      if (existsSync(join(dir, 'package.json'))) break;
      const up = dirname(dir);
      if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
      dir = up;
    }
    packageRoot = dir;
  }
  return join(packageRoot, 'models', `${name}.json`);
}
