// Coordinate for Node: the wasm-bindgen module (loaded synchronously at
// import) plus the status objects and error classes of api.js.
import './node-v8-workaround.js'; // first: see the file
import * as wasm from './coordinate_wasm.js';
import { install } from './api.js';

install(wasm);

export {
  MockClock,
  canDoWork,
  canStartContinuous,
  extractAddWorkUnitItem,
  extractWorkSpecMeta,
  extractWorkUnitOutput,
  limitMetasToNames,
  limitMetasToRuntimes,
  simplifiedScheduler,
  errorCodes,
  __recordFields,
} from './coordinate_wasm.js';
export {
  Attempt,
  Coordinate,
  Namespace,
  WorkSpec,
  WorkUnit,
  Worker,
  CoordinateError,
  NoSuchWorkSpecError,
  NoSuchWorkUnitError,
  GoneError,
  LostLeaseError,
  NotPendingError,
  NoWorkError,
  CannotBecomeContinuousError,
  ChangedNameError,
  NoWorkSpecNameError,
  BadWorkSpecNameError,
  WrongBackendError,
  WorkUnitNotListError,
  WorkUnitTooShortError,
  BadPriorityError,
  BadWorkUnitItemError,
  InvalidStatusError,
  UnavailableError,
  StorageError,
  UnauthorizedError,
  BadUrlError,
  OutOfRangeError,
  CapacityError,
  InvalidArgumentError,
  WorkUnitStatus,
  AttemptStatus,
} from './api.js';
