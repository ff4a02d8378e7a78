import type * as v from 'valibot';
import type { BudgetStore } from '../budgets';
import type { AppConfig } from '../config/config';
import type { CheckRules } from '../contracts/jsonSchema';
import type { DeadLetters } from '../dlq/deadLetters';
import type { FetchFile, ResolveMedia } from '../outbound/mediaUpload';
import type { PlatformAnswer, PlatformCall, PlatformMultipart, PlatformUpload } from '../platform/client';
import type { Platform } from '../tokens/platformToken';
import type { Tracer } from '../trace/tracer';

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** What an operation needs to reach the platform for one app. */
export interface AdminContext {
  readonly app: AppConfig;
  readonly call: PlatformCall;
  readonly multipart: PlatformMultipart;
  readonly upload: PlatformUpload;
  /** The media_id of a file given by URL or S3 object, uploaded once and cached. */
  readonly resolveMedia: ResolveMedia;
  /** The bytes of a file given by URL or S3 object, refused past the limit. */
  readonly fetchFile: FetchFile;
  /** Where a session's move is recorded, so replies are checked against the session's new state. */
  readonly budgets: Pick<BudgetStore, 'apply'>;
  /** The dead-letter queues of sync-jobs, inbound and outbound. */
  readonly deadLetters: Pick<DeadLetters, 'list' | 'show' | 'redrive' | 'discard'>;
  /** Where one message is, from the ledgers, budgets and dead-letter queues. */
  readonly tracer: Pick<Tracer, 'trace'>;
  readonly now: () => number;
  readonly signal?: AbortSignal;
}

export type AdminResult = Record<string, unknown>;

/** The records of a list field in a platform answer; absent means none. */
export const recordsOf = (answer: PlatformAnswer, field: string) =>
  (answer[field] ?? []) as Record<string, unknown>[];

/**
 * One admin operation, described once: the CLI command (`group command`), the HTTP route, the input and
 * output schemas the API validates with and publishes in OpenAPI, and what it asks of the platform.
 * Fields named in `path` come from the URL; for GET and DELETE the others are query parameters, for the
 * other methods the JSON body.
 */
export interface AdminOperation {
  readonly group: string;
  /** Absent when the group is the command itself (`trace <id>`). */
  readonly command?: string;
  readonly summary: string;
  /** Absent for operations on kf-bridge's own queues and state. */
  readonly platform?: Platform;
  readonly method: HttpMethod;
  readonly path: string;
  readonly input: v.GenericSchema;
  readonly output: v.GenericSchema;
  /** JSON Schema clauses for the input's own checks, keyed by their message. */
  readonly rules?: CheckRules;
  /** Input fields the CLI takes as arguments in this order (`dlq show outbound <id>`), besides their flags. */
  readonly positional?: readonly string[];
  /** Input fields holding a file; the CLI takes a path, an https URL or s3://bucket/key for them. */
  readonly files?: readonly string[];
  /** 201: the operation created something. */
  readonly creates?: boolean;
  run(input: unknown, context: AdminContext): Promise<AdminResult>;
}

/** Keeps the input type of each operation's `run` while the catalogue holds them side by side. */
export function operation<I extends v.GenericSchema, O extends v.GenericSchema>(
  definition: Omit<AdminOperation, 'input' | 'output' | 'run'> & {
    input: I;
    output: O;
    run(input: v.InferOutput<I>, context: AdminContext): Promise<v.InferInput<O>>;
  },
): AdminOperation {
  return definition as AdminOperation;
}
