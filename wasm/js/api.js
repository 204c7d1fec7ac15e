// The plain-JavaScript part of the Coordinate package, shared by the Node
// and browser entry points: the status objects and the error classes.
// Everything else (the classes, the free functions) is the wasm-bindgen
// module; the entry point hands it to `install()` once it is ready.

let wasm = null;

function native() {
  if (wasm === null) {
    throw new Error('coordinate: the WebAssembly module is not initialized yet (call `await init()` first)');
  }
  return wasm;
}

// ------------------------------------------------------------------ errors

/**
 * Base class of every error Coordinate throws for a bad operation. `code`
 * is the core's error name (`"NotPending"`), `name` the class name
 * (`"NotPendingError"`), `message` the original API's text.
 */
export class CoordinateError extends Error {
  constructor(message, options) {
    super(message, options);
    Object.defineProperty(this, 'code', {
      value: new.target.code ?? 'Coordinate',
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
}
Object.defineProperty(CoordinateError.prototype, 'name', {
  value: 'CoordinateError',
  writable: true,
  configurable: true,
});

const ERROR_CLASSES = new Map();

function errorClass(code) {
  const name = `${code}Error`;
  const cls = { [name]: class extends CoordinateError {} }[name];
  Object.defineProperty(cls, 'code', { value: code });
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  ERROR_CLASSES.set(code, cls);
  return cls;
}

/** No work spec with this name exists in the namespace. */
export const NoSuchWorkSpecError = errorClass('NoSuchWorkSpec');
/** No work unit with this name exists in the work spec. */
export const NoSuchWorkUnitError = errorClass('NoSuchWorkUnit');
/** The object, or one of its ancestors, was deleted. */
export const GoneError = errorClass('Gone');
/** `renew` on an attempt that is no longer its unit's active attempt. */
export const LostLeaseError = errorClass('LostLease');
/** The attempt is not pending, so it cannot change status this way. */
export const NotPendingError = errorClass('NotPending');
/** The scheduler found nothing to do (`simplifiedScheduler`). */
export const NoWorkError = errorClass('NoWork');
/** Defined by the original API; never thrown. */
export const CannotBecomeContinuousError = errorClass('CannotBecomeContinuous');
/** `setData` tried to change the work spec's name. */
export const ChangedNameError = errorClass('ChangedName');
/** Work spec data without a `name`. */
export const NoWorkSpecNameError = errorClass('NoWorkSpecName');
/** Work spec data whose `name` is not a string. */
export const BadWorkSpecNameError = errorClass('BadWorkSpecName');
/** Objects of two different `Coordinate`s were combined. */
export const WrongBackendError = errorClass('WrongBackend');
/** A chained output item is neither a name nor a list. */
export const WorkUnitNotListError = errorClass('WorkUnitNotList');
/** A chained output item list has fewer than two elements. */
export const WorkUnitTooShortError = errorClass('WorkUnitTooShort');
/** A chained output item's priority is not a number. */
export const BadPriorityError = errorClass('BadPriority');
/** A chained output item list has an element of the wrong type. */
export const BadWorkUnitItemError = errorClass('BadWorkUnitItem');
/** A status text or code that names no status. */
export const InvalidStatusError = errorClass('InvalidStatus');
/** The store cannot be reached. */
export const UnavailableError = errorClass('Unavailable');
/** The store failed or holds something it cannot read. */
export const StorageError = errorClass('Storage');
/** The server wants a token and none or a wrong one was sent. */
export const UnauthorizedError = errorClass('Unauthorized');
/** `connect` got a URL it cannot use. */
export const BadUrlError = errorClass('BadUrl');
/** A duration or instant outside its valid range (|d| <= 10^12 ms; years 1 to 9999), or NaN. */
export const OutOfRangeError = errorClass('OutOfRange');
/** The store is full: the call would pass the memory store's `max_units` or `max_bytes` bound; nothing changed. */
export const CapacityError = errorClass('Capacity');
/** An argument the call cannot accept (a worker as its own parent, a parent cycle). */
export const InvalidArgumentError = errorClass('InvalidArgument');

function makeError(code, message) {
  const cls = ERROR_CLASSES.get(code);
  if (cls) return new cls(message);
  const err = new CoordinateError(message);
  err.name = `${code}Error`;
  err.code = code;
  return err;
}

// ---------------------------------------------------------------- statuses

function statusObject(texts, fromText, fromCode, codeOf) {
  const members = {};
  for (const text of texts) members[text.toUpperCase()] = text;
  // Non-enumerable, so Object.values(WorkUnitStatus) lists only statuses.
  Object.defineProperties(members, {
    fromText: { value: (text) => native()[fromText](text) },
    fromCode: { value: (code) => native()[fromCode](code) },
    codeOf: { value: (status) => native()[codeOf](status) },
  });
  return Object.freeze(members);
}

/** Work unit statuses: `WorkUnitStatus.AVAILABLE === "available"`. */
export const WorkUnitStatus = statusObject(
  ['any', 'available', 'pending', 'finished', 'failed', 'delayed'],
  '__workUnitStatusFromText',
  '__workUnitStatusFromCode',
  '__workUnitStatusCode',
);

/** Attempt statuses: `AttemptStatus.PENDING === "pending"`. */
export const AttemptStatus = statusObject(
  ['pending', 'expired', 'finished', 'failed', 'retryable'],
  '__attemptStatusFromText',
  '__attemptStatusFromCode',
  '__attemptStatusCode',
);

const HANDLE_CLASSES = ['Coordinate', 'MockClock', 'Namespace', 'WorkSpec', 'WorkUnit', 'Worker', 'Attempt'];

/** Connects this module to the initialized wasm-bindgen module. */
export function install(module) {
  wasm = module;
  module.__setErrorFactory(makeError);
  // console.log / util.inspect show `WorkUnit("spec"/"unit")`, not the pointer.
  const inspect = Symbol.for('nodejs.util.inspect.custom');
  for (const name of HANDLE_CLASSES) {
    Object.defineProperty(module[name].prototype, inspect, {
      value() {
        try {
          return this.toString();
        } catch {
          return `${name} (freed)`;
        }
      },
      configurable: true,
    });
  }
}
