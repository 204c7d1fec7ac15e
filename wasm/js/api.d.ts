// Types of api.js: the status objects and the error classes.
import type { AttemptStatusText, WorkUnitStatusText } from './coordinate_wasm.js';

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
