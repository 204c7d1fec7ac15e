// Coordinate for browsers (and any ESM host with fetch): call `await init()`
// (or `initSync({module})`) once before using anything else.
//
//   import init, { Coordinate, MockClock } from './pkg-web/index.js';
//   await init();
import * as wasm from './coordinate_wasm.js';
import wbgInit, { initSync as wbgInitSync } from './coordinate_wasm.js';
import { install } from './api.js';

/** Loads and instantiates the WebAssembly module (by default from next to this file). */
export default async function init(moduleOrPath) {
  const exports = await wbgInit(moduleOrPath);
  install(wasm);
  return exports;
}

/** Instantiates the WebAssembly module synchronously from `{module}` (bytes or a `WebAssembly.Module`). */
export function initSync(module) {
  const exports = wbgInitSync(module);
  install(wasm);
  return exports;
}

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
