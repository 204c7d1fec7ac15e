// Types of api.js: the handle classes, the status objects and the error classes.
import type {
  AddWorkUnitInput,
  AttemptRequest,
  AttemptStatusText,
  CoordinateOptions,
  DataMap,
  DataMapInput,
  SummaryRecord,
  WorkSpecMeta,
  WorkSpecMetaInput,
  WorkUnitMeta,
  WorkUnitQuery,
  WorkUnitStatusText,
} from './coordinate_wasm.js';

/**
 * What every handle class has. Handles are plain objects holding ids: they
 * own no wasm memory, so nothing needs freeing and a dropped handle is
 * ordinary garbage.
 */
declare class Handle {
  /** Retires this handle: later calls on it throw `GoneError`; a second `free()` does nothing. Other handles to the object stay valid. */
  free(): void;
  /** `free()`, for `using`. */
  [Symbol.dispose](): void;
  /** A readable description, e.g. `WorkUnit("spec"/"unit")`. */
  toString(): string;
}

/**
 * The root of a Coordinate system: holds namespaces by name.
 *
 * ```js
 * const clock = new MockClock(new Date("2026-01-01T00:00:00Z"));
 * const coord = new Coordinate({ clock, seed: 1 });
 * const ns = coord.namespace("demo");
 * ```
 */
export declare class Coordinate extends Handle {
  /** A Coordinate on `clock` (default: the system clock) whose scheduler draws from `seed` (default: a random seed). */
  constructor(options?: CoordinateOptions);
  /** The namespace called `name` (default `""`), created if absent. */
  namespace(name?: string): Namespace;
  /** Every live namespace by name. */
  namespaces(): Map<string, Namespace>;
  /** Unit counts by namespace, work spec and status. */
  summarize(): SummaryRecord[];
  /** The current time of this Coordinate's clock. */
  now(): Date;
  /** Whether `other` is a handle to the same Coordinate (`false` for anything else). */
  equals(other: unknown): boolean;
}

/** A namespace: holds work specs and workers by name. */
export declare class Namespace extends Handle {
  private constructor();
  /** The namespace's name. */
  readonly name: string;
  /** Deletes the namespace with its work specs, units, attempts and workers. Destroying it again does nothing. */
  destroy(): void;
  /** Creates or updates the work spec named by `data.name`. */
  setWorkSpec(data: DataMapInput): WorkSpec;
  /** The work spec called `name` (throws `NoSuchWorkSpecError`). */
  workSpec(name: string): WorkSpec;
  /** Deletes the work spec called `name` with its units and attempts. */
  destroyWorkSpec(name: string): void;
  /** The names of every work spec, sorted. */
  workSpecNames(): string[];
  /** The worker called `name`, created if absent. */
  worker(name: string): Worker;
  /** Every worker of the namespace by name. */
  workers(): Map<string, Worker>;
  /** Unit counts by work spec and status. */
  summarize(): SummaryRecord[];
  /** Whether `other` is a handle to the same namespace (`false` for anything else). */
  equals(other: unknown): boolean;
}

/** A work spec: a kind of job, with its data, its scheduling metadata and its work units. */
export declare class WorkSpec extends Handle {
  private constructor();
  /** The work spec's name. */
  readonly name: string;
  /** The work spec's data, exactly as last set. */
  data(): DataMap;
  /** Replaces the data and recomputes the metadata; the name may not change. */
  setData(data: DataMapInput): void;
  /** The scheduling metadata; `{withCounts: true}` also counts available and pending units. */
  meta(options?: { withCounts?: boolean }): WorkSpecMeta;
  /** Updates the adjustable metadata fields (missing fields are zero). */
  setMeta(meta: WorkSpecMetaInput): void;
  /** Adds the unit `name`, or replaces the data and metadata of the unit of that name. No `data` means `{}`; no `meta` means zero metadata. */
  addWorkUnit(name: string, data?: DataMapInput | null, meta?: Partial<WorkUnitMeta> | null): WorkUnit;
  /** Adds or updates many units in one call; returns how many. */
  addWorkUnits(items: Iterable<AddWorkUnitInput>): number;
  /** The unit called `name` (throws `NoSuchWorkUnitError`). */
  workUnit(name: string): WorkUnit;
  /** The units the query selects (default: all), by name. */
  workUnits(query?: WorkUnitQuery): Map<string, WorkUnit>;
  /** How many units have each status (statuses with no units are absent). */
  countWorkUnitStatus(): Map<WorkUnitStatusText, number>;
  /** Sets the priority of every unit the query selects (default: all). */
  setWorkUnitPriorities(priority: number, query?: WorkUnitQuery): void;
  /** Adds `adjustment` to the priority of every unit the query selects. */
  adjustWorkUnitPriorities(adjustment: number, query?: WorkUnitQuery): void;
  /** Deletes the units the query selects (default: all); returns how many. */
  deleteWorkUnits(query?: WorkUnitQuery): number;
  /** Unit counts by status. */
  summarize(): SummaryRecord[];
  /** Whether `other` is a handle to the same work spec (`false` for anything else). */
  equals(other: unknown): boolean;
}

/** A work unit: one input of a work spec, with its data, metadata and attempts. */
export declare class WorkUnit extends Handle {
  private constructor();
  /** The unit's name. */
  readonly name: string;
  /** The work spec the unit belongs to. */
  readonly workSpec: WorkSpec;
  /** The unit's data. */
  data(): DataMap;
  /** The unit's status (`"available"`, `"pending"`, ...). */
  status(): WorkUnitStatusText;
  /** The unit's metadata `{priority, notBefore}`. */
  meta(): WorkUnitMeta;
  /** Replaces the unit's metadata (missing fields are zero). */
  setMeta(meta: Partial<WorkUnitMeta>): void;
  /** The unit's priority. */
  priority(): number;
  /** Sets the unit's priority. */
  setPriority(priority: number): void;
  /** The attempt that decides the unit's status, or `null`. */
  activeAttempt(): Attempt | null;
  /** Forgets the active attempt, making the unit available again. */
  clearActiveAttempt(): void;
  /** Every attempt on the unit, oldest first. */
  attempts(): Attempt[];
  /** How many attempts the unit has had. */
  numAttempts(): number;
  /** Whether `other` is a handle to the same work unit (`false` for anything else). */
  equals(other: unknown): boolean;
}

/** A worker: asks for work and holds attempts. Workers form a tree (`parent()`, `children()`). */
export declare class Worker extends Handle {
  private constructor();
  /** The worker's name. */
  readonly name: string;
  /** The namespace the worker belongs to. */
  readonly namespace: Namespace;
  /** The parent worker, or `null`. */
  parent(): Worker | null;
  /** Moves this worker under `parent`, or makes it a root with `null`. */
  setParent(parent: Worker | null): void;
  /** The worker's children, sorted by name. */
  children(): Worker[];
  /** Whether the worker is active. */
  active(): boolean;
  /** Marks the worker inactive. */
  deactivate(): void;
  /** The mode last reported by `update` (`""` before). */
  mode(): string;
  /** The data last reported by `update` (`{}` before). */
  data(): DataMap;
  /** When the worker's last report expires. */
  expiration(): Date;
  /** When the worker last reported (or was created). */
  lastUpdate(): Date;
  /** Records the worker's state as reported by it and marks it active; `now` and `expiration` are stored as given. */
  update(data: DataMapInput, now: Date, expiration: Date, mode: string): void;
  /** Asks the scheduler for work; an empty Array when there is none. */
  requestAttempts(request?: AttemptRequest): Attempt[];
  /** Starts an attempt on `workUnit` regardless of its state; `lifetimeMs` 0 or absent means 15 minutes. */
  makeAttempt(workUnit: WorkUnit, lifetimeMs?: number): Attempt;
  /** The worker's attempts not yet completed, oldest first. */
  activeAttempts(): Attempt[];
  /** Every attempt the worker ever had, oldest first. */
  allAttempts(): Attempt[];
  /** The active attempts of the worker's children. */
  childAttempts(): Attempt[];
  /** Whether `other` is a handle to the same worker (`false` for anything else). */
  equals(other: unknown): boolean;
}

/** An attempt: one worker's lease on one work unit. Renew it to keep it, then finish, fail, retry or let it expire. */
export declare class Attempt extends Handle {
  private constructor();
  /** The work unit the attempt is for. */
  readonly workUnit: WorkUnit;
  /** The worker holding the attempt. */
  readonly worker: Worker;
  /** The attempt's status (`"pending"`, `"finished"`, ...). */
  status(): AttemptStatusText;
  /** The attempt's data. */
  data(): DataMap;
  /** When the attempt started. */
  startTime(): Date;
  /** When the attempt completed, or `null` while pending. */
  endTime(): Date | null;
  /** When the lease runs out unless renewed. */
  expirationTime(): Date;
  /** Extends the lease to `ms` milliseconds from now, optionally replacing the data. */
  renew(ms: number, data?: DataMapInput | null): void;
  /** Gives up the lease (status `"expired"`), optionally replacing the data. */
  expire(data?: DataMapInput | null): void;
  /** Completes the work, optionally replacing the data (its `output` chains into the spec's `then` spec). */
  finish(data?: DataMapInput | null): void;
  /** Fails the work for good, optionally replacing the data. */
  fail(data?: DataMapInput | null): void;
  /** Fails the work so it can be retried after `delayMs` milliseconds (default 0), optionally replacing the data. */
  retry(data?: DataMapInput | null, delayMs?: number): void;
  /** Whether `other` is a handle to the same attempt (`false` for anything else). */
  equals(other: unknown): boolean;
}

/** The code of a Coordinate error: the core's error variant name. */
export type CoordinateErrorCode =
  | 'NoSuchWorkSpec'
  | 'NoSuchWorkUnit'
  | 'Gone'
  | 'LostLease'
  | 'NotPending'
  | 'NoWork'
  | 'CannotBecomeContinuous'
  | 'ChangedName'
  | 'NoWorkSpecName'
  | 'BadWorkSpecName'
  | 'WrongBackend'
  | 'WorkUnitNotList'
  | 'WorkUnitTooShort'
  | 'BadPriority'
  | 'BadWorkUnitItem'
  | 'InvalidStatus'
  | 'Unavailable'
  | 'Storage'
  | 'Unauthorized'
  | 'BadUrl'
  | 'OutOfRange'
  | 'Capacity'
  | 'InvalidArgument';

/**
 * Base class of every error Coordinate throws for a bad operation: `code` is
 * the core's error name (`"NotPending"`), `name` the class name
 * (`"NotPendingError"`). Wrong argument types throw `TypeError`, and a bug
 * in the engine (a Rust panic) throws an `Error` named `PanicError`.
 */
export declare class CoordinateError extends Error {
  constructor(message?: string, options?: ErrorOptions);
  readonly code: CoordinateErrorCode;
}

type ErrorClass<C extends CoordinateErrorCode> = {
  new (message?: string, options?: ErrorOptions): CoordinateError & { readonly code: C };
  readonly code: C;
};

export declare const NoSuchWorkSpecError: ErrorClass<'NoSuchWorkSpec'>;
export type NoSuchWorkSpecError = InstanceType<typeof NoSuchWorkSpecError>;
export declare const NoSuchWorkUnitError: ErrorClass<'NoSuchWorkUnit'>;
export type NoSuchWorkUnitError = InstanceType<typeof NoSuchWorkUnitError>;
export declare const GoneError: ErrorClass<'Gone'>;
export type GoneError = InstanceType<typeof GoneError>;
export declare const LostLeaseError: ErrorClass<'LostLease'>;
export type LostLeaseError = InstanceType<typeof LostLeaseError>;
export declare const NotPendingError: ErrorClass<'NotPending'>;
export type NotPendingError = InstanceType<typeof NotPendingError>;
export declare const NoWorkError: ErrorClass<'NoWork'>;
export type NoWorkError = InstanceType<typeof NoWorkError>;
export declare const CannotBecomeContinuousError: ErrorClass<'CannotBecomeContinuous'>;
export type CannotBecomeContinuousError = InstanceType<typeof CannotBecomeContinuousError>;
export declare const ChangedNameError: ErrorClass<'ChangedName'>;
export type ChangedNameError = InstanceType<typeof ChangedNameError>;
export declare const NoWorkSpecNameError: ErrorClass<'NoWorkSpecName'>;
export type NoWorkSpecNameError = InstanceType<typeof NoWorkSpecNameError>;
export declare const BadWorkSpecNameError: ErrorClass<'BadWorkSpecName'>;
export type BadWorkSpecNameError = InstanceType<typeof BadWorkSpecNameError>;
export declare const WrongBackendError: ErrorClass<'WrongBackend'>;
export type WrongBackendError = InstanceType<typeof WrongBackendError>;
export declare const WorkUnitNotListError: ErrorClass<'WorkUnitNotList'>;
export type WorkUnitNotListError = InstanceType<typeof WorkUnitNotListError>;
export declare const WorkUnitTooShortError: ErrorClass<'WorkUnitTooShort'>;
export type WorkUnitTooShortError = InstanceType<typeof WorkUnitTooShortError>;
export declare const BadPriorityError: ErrorClass<'BadPriority'>;
export type BadPriorityError = InstanceType<typeof BadPriorityError>;
export declare const BadWorkUnitItemError: ErrorClass<'BadWorkUnitItem'>;
export type BadWorkUnitItemError = InstanceType<typeof BadWorkUnitItemError>;
export declare const InvalidStatusError: ErrorClass<'InvalidStatus'>;
export type InvalidStatusError = InstanceType<typeof InvalidStatusError>;
export declare const UnavailableError: ErrorClass<'Unavailable'>;
export type UnavailableError = InstanceType<typeof UnavailableError>;
export declare const StorageError: ErrorClass<'Storage'>;
export type StorageError = InstanceType<typeof StorageError>;
export declare const UnauthorizedError: ErrorClass<'Unauthorized'>;
export type UnauthorizedError = InstanceType<typeof UnauthorizedError>;
export declare const BadUrlError: ErrorClass<'BadUrl'>;
export type BadUrlError = InstanceType<typeof BadUrlError>;
export declare const OutOfRangeError: ErrorClass<'OutOfRange'>;
export type OutOfRangeError = InstanceType<typeof OutOfRangeError>;
export declare const CapacityError: ErrorClass<'Capacity'>;
export type CapacityError = InstanceType<typeof CapacityError>;
export declare const InvalidArgumentError: ErrorClass<'InvalidArgument'>;
export type InvalidArgumentError = InstanceType<typeof InvalidArgumentError>;

/** A work unit status: one of the `WorkUnitStatus` members (a text form). */
export type WorkUnitStatus = WorkUnitStatusText;
/** Work unit statuses: `WorkUnitStatus.AVAILABLE === "available"`. */
export declare const WorkUnitStatus: {
  readonly ANY: 'any';
  readonly AVAILABLE: 'available';
  readonly PENDING: 'pending';
  readonly FINISHED: 'finished';
  readonly FAILED: 'failed';
  readonly DELAYED: 'delayed';
  /** The status a text names; throws `InvalidStatusError` (case-sensitive). */
  fromText(text: string): WorkUnitStatus;
  /** The status with this numeric code (any 0 ... delayed 5); throws `InvalidStatusError`. */
  fromCode(code: number): WorkUnitStatus;
  /** The numeric code of a status. */
  codeOf(status: WorkUnitStatus): number;
};

/** An attempt status: one of the `AttemptStatus` members (a text form). */
export type AttemptStatus = AttemptStatusText;
/** Attempt statuses: `AttemptStatus.PENDING === "pending"`. */
export declare const AttemptStatus: {
  readonly PENDING: 'pending';
  readonly EXPIRED: 'expired';
  readonly FINISHED: 'finished';
  readonly FAILED: 'failed';
  readonly RETRYABLE: 'retryable';
  /** The status a text names; throws `InvalidStatusError` (case-sensitive). */
  fromText(text: string): AttemptStatus;
  /** The status with this numeric code (pending 0 ... retryable 4); throws `InvalidStatusError`. */
  fromCode(code: number): AttemptStatus;
  /** The numeric code of a status. */
  codeOf(status: AttemptStatus): number;
};
