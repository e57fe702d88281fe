/**
 * Typed domain errors. Each carries the exact AWS exception name (`code`) that the protocol layer puts in
 * `__type` and `x-amzn-ErrorType`; only src/protocol turns these into wire responses (DESIGN.md principle 6).
 */
export type ErrorFault = 'client' | 'server';

export class ApiError extends Error {
  readonly code: string;
  readonly fault: ErrorFault;
  readonly status: number;
  /** Extra members placed in the error body beside `__type` and `message` (e.g. ConflictException.resourceIds). */
  readonly extra: Readonly<Record<string, unknown>>;

  constructor(code: string, message: string, opts: { fault?: ErrorFault; status?: number; extra?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = code;
    this.code = code;
    this.fault = opts.fault ?? 'client';
    this.status = opts.status ?? (this.fault === 'server' ? 500 : 400);
    this.extra = opts.extra ?? {};
  }
}

const client = (code: string) => (message: string, extra?: Record<string, unknown>) =>
  new ApiError(code, message, extra === undefined ? {} : { extra });

/** Constructors for the ECS exceptions Gantry raises, named exactly as in the ECS API model. */
export const Ecs = {
  invalidParameter: client('InvalidParameterException'),
  client: client('ClientException'),
  clusterNotFound: (message = 'Cluster not found.') => new ApiError('ClusterNotFoundException', message),
  clusterContainsContainerInstances: client('ClusterContainsContainerInstancesException'),
  clusterContainsServices: client('ClusterContainsServicesException'),
  clusterContainsTasks: client('ClusterContainsTasksException'),
  serviceNotFound: client('ServiceNotFoundException'),
  serviceNotActive: client('ServiceNotActiveException'),
  targetNotFound: client('TargetNotFoundException'),
  attributeLimitExceeded: client('AttributeLimitExceededException'),
  resourceNotFound: client('ResourceNotFoundException'),
  limitExceeded: client('LimitExceededException'),
  conflict: client('ConflictException'),
  unsupportedFeature: client('UnsupportedFeatureException'),
  accessDenied: client('AccessDeniedException'),
  server: (message: string, cause?: unknown) => new ApiError('ServerException', message, { fault: 'server', cause }),
} as const;

/** Errors of the AWS JSON protocol itself (not modelled per service, but sent by every AWS JSON endpoint). */
export const Protocol = {
  serialization: client('SerializationException'),
  unknownOperation: client('UnknownOperationException'),
  missingAuthenticationToken: (message: string) => new ApiError('MissingAuthenticationTokenException', message),
  invalidSignature: (message: string) => new ApiError('InvalidSignatureException', message),
  unrecognizedClient: (message: string) => new ApiError('UnrecognizedClientException', message),
  incompleteSignature: (message: string) => new ApiError('IncompleteSignatureException', message),
  throttling: (message = 'Rate exceeded') => new ApiError('ThrottlingException', message),
} as const;

/** Constructors for the ECR exceptions Gantry raises, named exactly as in the ECR API model. */
export const Ecr = {
  invalidParameter: client('InvalidParameterException'),
  validation: client('ValidationException'),
  repositoryNotFound: (name: string, registryId: string) =>
    new ApiError('RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${registryId}'`),
  repositoryAlreadyExists: client('RepositoryAlreadyExistsException'),
  repositoryNotEmpty: client('RepositoryNotEmptyException'),
  repositoryPolicyNotFound: client('RepositoryPolicyNotFoundException'),
  lifecyclePolicyNotFound: client('LifecyclePolicyNotFoundException'),
  lifecyclePolicyPreviewNotFound: client('LifecyclePolicyPreviewNotFoundException'),
  imageNotFound: client('ImageNotFoundException'),
  imageAlreadyExists: client('ImageAlreadyExistsException'),
  imageTagAlreadyExists: client('ImageTagAlreadyExistsException'),
  imageDigestDoesNotMatch: client('ImageDigestDoesNotMatchException'),
  layersNotFound: client('LayersNotFoundException'),
  referencedImagesNotFound: client('ReferencedImagesNotFoundException'),
  uploadNotFound: client('UploadNotFoundException'),
  invalidLayer: client('InvalidLayerException'),
  invalidLayerPart: client('InvalidLayerPartException'),
  layerAlreadyExists: client('LayerAlreadyExistsException'),
  emptyUpload: client('EmptyUploadException'),
  invalidTagParameter: client('InvalidTagParameterException'),
  tooManyTags: client('TooManyTagsException'),
  limitExceeded: client('LimitExceededException'),
  unsupportedImageType: client('UnsupportedImageTypeException'),
  accessDenied: client('AccessDeniedException'),
  server: (message: string, cause?: unknown) => new ApiError('ServerException', message, { fault: 'server', cause }),
} as const;
