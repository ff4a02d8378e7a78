/**
 * The one error hierarchy of kf-bridge. Every failure a caller may act on is a KfBridgeError:
 * `status` is the HTTP answer it maps to, `retryable` tells queue consumers whether a retry can help,
 * and `errcode` carries a platform error code where there is one. Messages are short, name what is
 * wrong, and never contain a secret or a decrypted payload.
 */
export class KfBridgeError extends Error {
  readonly status: number = 500;
  readonly retryable: boolean = false;
  readonly errcode?: number;

  /** Whether the message may be shown to an API caller: client errors and the platform's own refusals. */
  get expose(): boolean {
    return this.status < 500;
  }

  constructor(message: string, options?: { cause?: unknown; errcode?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.errcode !== undefined) this.errcode = options.errcode;
  }
}

/** A setting is missing or malformed; raised at cold start. */
export class ConfigError extends KfBridgeError {}

/** The request is malformed: bad XML, bad base64, bad padding, wrong receive id. */
export class BadRequestError extends KfBridgeError {
  override readonly status = 400;
}

/** A file the caller named (an https URL, an S3 object) could not be fetched, or is not what it must be. */
export class CallerFileError extends BadRequestError {}

/** The signature does not match, or the timestamp is outside the allowed clock skew. */
export class UnauthorizedError extends KfBridgeError {
  override readonly status = 401;
}

export class NotFoundError extends KfBridgeError {
  override readonly status = 404;
}

export class MethodNotAllowedError extends KfBridgeError {
  override readonly status = 405;
}

export class PayloadTooLargeError extends KfBridgeError {
  override readonly status = 413;
}

/** Data that should conform to one of our contracts does not; `issues` names each offending field. */
export class ContractError extends KfBridgeError {
  override readonly status = 400;
  readonly issues: { path: string; message: string }[];
  constructor(message: string, options?: { cause?: unknown; issues?: { path: string; message: string }[] }) {
    super(message, options);
    this.issues = options?.issues ?? [];
  }
}

/** A dependency (SQS, DynamoDB, WeCom) failed in a way a retry may fix. */
export class DependencyError extends KfBridgeError {
  override readonly status = 503;
  override readonly retryable = true;
}

/**
 * A file the caller named could not be fetched for a reason that may pass (kf-bridge's resolver or network, the
 * file's server, kf-bridge's own deadline): said with its cause, so the caller knows what to try again.
 */
export class CallerFileUnavailableError extends DependencyError {
  override get expose(): boolean {
    return true;
  }
}

/**
 * A platform call failed with no answer (timeout, dropped connection): it may have been carried out. Retrying is
 * safe only where the platform de-duplicates (kf/send_msg's msgid); MP's message/custom/send does not.
 */
export class UncertainOutcomeError extends DependencyError {}

/**
 * WeCom or MP answered with a non-zero errcode. Whether a retry can help depends on the code; `status` is
 * what the HTTP API answers a caller whose request the platform refused (404 for an unknown account, …).
 */
export class PlatformError extends KfBridgeError {
  override readonly retryable: boolean;
  override readonly status: number;
  constructor(message: string, errcode: number, retryable: boolean, status = 502) {
    super(message, { errcode });
    this.retryable = retryable;
    this.status = status;
  }
  override get expose(): boolean {
    return true;
  }
}

/** The platform refused an app's credentials at token time: only a settings change fixes it. */
export class CredentialsError extends KfBridgeError {
  override readonly status = 502;
  override get expose(): boolean {
    return true;
  }
}
