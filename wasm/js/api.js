// The plain-JavaScript part of the Coordinate package, shared by the Node
// and browser entry points: the handle classes (`Coordinate`, `Namespace`,
// `WorkSpec`, `WorkUnit`, `Worker`, `Attempt`), the status objects and the
// error classes. `MockClock` and the free functions are the wasm-bindgen
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

// ----------------------------------------------------------------- handles
//
// A handle is a plain object: its Coordinate's engine object (`_c`, a
// wasm-bindgen `CoordinateCore`) and the store ids of the object and its
// parents, with their names, in small shared records (`{id, name}` for a
// namespace, `{id, ns, name}` for a spec or a worker, `{spec, hi, lo, name}`
// for a unit, whose id is a u64 in two u32 halves). A handle owns nothing in
// wasm memory: a dropped one is ordinary garbage, and `free()` only retires
// this one handle (it throws `GoneError` afterwards; other handles to the
// object stay valid). Each method passes the ids to a hidden function of the
// module, which rebuilds the core handle from them (src/wire.rs).
//
// Returned handles arrive in wasm memory, in the layout src/wire.rs writes:
// numbers (read through the `Float64Array` `F64` from word `at`) and the
// names' UTF-8 bytes, decoded at once into `NAMES` and cut at `pos`. Each
// Coordinate's engine object keeps the namespace, spec and worker records
// it has seen by id (`_kept`), which replies then send as an id alone.
// Reading is synchronous and runs no user code, so one module-level cursor
// serves every call.

const INTERNAL = Symbol('coordinate.internal');
let memory = null;
let F64 = new Float64Array(0);
let U8 = new Uint8Array(0);
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// An Array of each length up to 64 for the char codes of short names
// (setting an Array's length on every call costs more than the copy).
const CODES = Array.from({ length: 65 }, (_, n) => new Array(n).fill(0));
let NAMES = '';
let at = 0;
let pos = 0;
let kept = null;
let lastNs = null;
let lastSpec = null;
let lastWorker = null;

/** Starts reading the reply at byte `ptr` for engine object `c`; returns its handle count. */
function begin(c, ptr) {
  // Growing wasm memory detaches the old buffer, which empties its views
  // (cheaper to test than reading `memory.buffer` on every call).
  if (F64.length === 0) {
    F64 = new Float64Array(memory.buffer);
    U8 = new Uint8Array(memory.buffer);
  }
  at = ptr >>> 3;
  const count = F64[at];
  const namesAt = F64[at + 1];
  const namesLen = F64[at + 2];
  const flags = F64[at + 3];
  at += 4;
  kept = c._kept;
  if (kept === undefined || flags & 2) {
    kept = c._kept = { ns: new Map(), spec: new Map(), worker: new Map() };
  }
  if (namesLen === 0) {
    NAMES = '';
  } else if (flags & 1 && namesLen <= 64) {
    // Short ASCII (a batch of one): cheaper than TextDecoder or a subarray.
    const codes = CODES[namesLen];
    for (let i = 0; i < namesLen; i++) codes[i] = U8[namesAt + i];
    NAMES = String.fromCharCode.apply(null, codes);
  } else {
    NAMES = decoder.decode(U8.subarray(namesAt, namesAt + namesLen));
  }
  pos = 0;
  lastNs = lastSpec = lastWorker = null;
  return count;
}

function readName() {
  const n = F64[at++];
  const name = NAMES.slice(pos, pos + n);
  pos += n;
  return name;
}

function readNs() {
  const id = F64[at++];
  if (id < 0) return (lastNs = id === -1 ? lastNs : kept.ns.get(-2 - id));
  const ns = { id, name: readName() };
  kept.ns.set(id, ns);
  return (lastNs = ns);
}

function readSpec() {
  const id = F64[at++];
  if (id < 0) return (lastSpec = id === -1 ? lastSpec : kept.spec.get(-2 - id));
  const spec = { id, ns: readNs(), name: '' };
  spec.name = readName();
  kept.spec.set(id, spec);
  return (lastSpec = spec);
}

function readUnit(spec) {
  const hi = F64[at++];
  const lo = F64[at++];
  return { spec, hi, lo, name: readName() };
}

function readWorker() {
  const id = F64[at++];
  if (id < 0) return (lastWorker = id === -1 ? lastWorker : kept.worker.get(-2 - id));
  const worker = { id, ns: readNs(), name: '' };
  worker.name = readName();
  kept.worker.set(id, worker);
  return (lastWorker = worker);
}

function readAttempt(c) {
  const unit = readUnit(readSpec());
  const worker = readWorker();
  return new Attempt(INTERNAL, c, unit, worker, F64[at++]);
}

function attemptList(c, ptr) {
  const n = begin(c, ptr);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = readAttempt(c);
  return out;
}
const oneAttempt = (c, ptr) => (begin(c, ptr) === 0 ? null : readAttempt(c));
const oneNs = (c, ptr) => (begin(c, ptr), new Namespace(INTERNAL, c, readNs()));
const oneSpec = (c, ptr) => (begin(c, ptr), new WorkSpec(INTERNAL, c, readSpec()));
const oneWorker = (c, ptr) => (begin(c, ptr), new Worker(INTERNAL, c, readWorker()));
const unitOf = (c, spec, ptr) => (begin(c, ptr), new WorkUnit(INTERNAL, c, readUnit(spec)));
function workerList(c, ptr) {
  const n = begin(c, ptr);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = new Worker(INTERNAL, c, readWorker());
  return out;
}
/** A `Map` by name of the handles `make(record)` of a reply of `read()` records. */
function byName(c, ptr, read, make) {
  const n = begin(c, ptr);
  const map = new Map();
  for (let i = 0; i < n; i++) {
    const handle = make(read());
    map.set(handle.name, handle);
  }
  return map;
}

/** `name` as Rust's `{:?}` shows a string: `"a\"b"`. */
function quoted(name) {
  // eslint-disable-next-line no-control-regex
  const body = name.replace(/[\\"\n\r\t\0]|[\u0001-\u001f\u007f]/g, (ch) => {
    switch (ch) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '\0':
        return '\\0';
      default:
        return `\\u{${ch.charCodeAt(0).toString(16)}}`;
    }
  });
  return `"${body}"`;
}

/** Throws the error that the last failed call of a Result-less export kept. */
function thrown() {
  throw wasm.__takeError();
}

function freed(handle) {
  throw makeError('Gone', `this ${handle.constructor.name} handle was freed (free() or using); get a new handle to the object`);
}

function internal(token) {
  if (token !== INTERNAL) throw new TypeError('handles cannot be constructed directly; get them from a Coordinate');
}

/** The WorkUnit argument `v` as `[core, nsId, specId, hi, lo]`. */
function unitArg(v, arg) {
  if (!(v instanceof WorkUnit)) throw native().__badHandle(v, arg, 'WorkUnit');
  const c = v._c ?? freed(v);
  const u = v._u;
  return [c, u.spec.ns.id, u.spec.id, u.hi, u.lo];
}

/** The base of the handle classes: `free()`, `using`, `console.log`. */
class Handle {
  /** Retires this handle: later calls on it throw `GoneError`; again does nothing. Nothing needs freeing. */
  free() {
    this._c = null;
  }

  [Symbol.for('nodejs.util.inspect.custom')]() {
    return this._c === null ? `${this.constructor.name} (freed)` : this.toString();
  }
}

// `using handle = ...` (where the host has explicit resource management).
if (typeof Symbol.dispose === 'symbol') {
  Object.defineProperty(Handle.prototype, Symbol.dispose, {
    value() {
      this.free();
    },
    configurable: true,
    writable: true,
  });
}

/** The root of a Coordinate system: holds namespaces by name. */
export class Coordinate extends Handle {
  /** A Coordinate on `clock` (default: the system clock) whose scheduler draws from `seed` (default: a random seed). */
  constructor(options) {
    super();
    this._c = new (native().CoordinateCore)(options);
  }

  /** The namespace called `name` (default `""`), created if absent. */
  namespace(name) {
    const c = this._c ?? freed(this);
    return oneNs(c, c.namespace(name));
  }

  /** Every live namespace by name. */
  namespaces() {
    const c = this._c ?? freed(this);
    return byName(c, c.namespaces(), readNs, (r) => new Namespace(INTERNAL, c, r));
  }

  /** Unit counts by namespace, work spec and status. */
  summarize() {
    return (this._c ?? freed(this)).summarize();
  }

  /** The current time of this Coordinate's clock. */
  now() {
    return (this._c ?? freed(this)).now();
  }

  /** Whether `other` is a handle to the same Coordinate. */
  equals(other) {
    const c = this._c ?? freed(this);
    return other instanceof Coordinate && other._c === c;
  }

  toString() {
    this._c ?? freed(this);
    return 'Coordinate';
  }
}

/** A namespace: holds work specs and workers by name. */
export class Namespace extends Handle {
  constructor(token, c, ns) {
    internal(token);
    super();
    this._c = c;
    this._n = ns;
  }

  /** The namespace's name. */
  get name() {
    this._c ?? freed(this);
    return this._n.name;
  }

  /** Deletes the namespace with its work specs, units, attempts and workers. Destroying it again does nothing. */
  destroy() {
    native().__nsDestroy(this._c ?? freed(this), this._n.id);
  }

  /** Creates or updates the work spec named by `data.name`. */
  setWorkSpec(data) {
    const c = this._c ?? freed(this);
    return oneSpec(c, native().__nsSetWorkSpec(c, this._n.id, data));
  }

  /** The work spec called `name` (throws `NoSuchWorkSpecError`). */
  workSpec(name) {
    const c = this._c ?? freed(this);
    return oneSpec(c, native().__nsWorkSpec(c, this._n.id, name));
  }

  /** Deletes the work spec called `name` with its units and attempts. */
  destroyWorkSpec(name) {
    native().__nsDestroyWorkSpec(this._c ?? freed(this), this._n.id, name);
  }

  /** The names of every work spec, sorted. */
  workSpecNames() {
    return native().__nsWorkSpecNames(this._c ?? freed(this), this._n.id);
  }

  /** The worker called `name`, created if absent. */
  worker(name) {
    const c = this._c ?? freed(this);
    return oneWorker(c, native().__nsWorker(c, this._n.id, name));
  }

  /** Every worker of the namespace by name. */
  workers() {
    const c = this._c ?? freed(this);
    return byName(c, native().__nsWorkers(c, this._n.id), readWorker, (r) => new Worker(INTERNAL, c, r));
  }

  /** Unit counts by work spec and status. */
  summarize() {
    return native().__nsSummarize(this._c ?? freed(this), this._n.id);
  }

  /** Whether `other` is a handle to the same namespace. */
  equals(other) {
    const c = this._c ?? freed(this);
    return other instanceof Namespace && other._c === c && other._n.id === this._n.id;
  }

  toString() {
    this._c ?? freed(this);
    return `Namespace(${quoted(this._n.name)})`;
  }
}

/** A work spec: a kind of job, with its data, its scheduling metadata and its work units. */
export class WorkSpec extends Handle {
  constructor(token, c, spec) {
    internal(token);
    super();
    this._c = c;
    this._s = spec;
  }

  /** The work spec's name. */
  get name() {
    this._c ?? freed(this);
    return this._s.name;
  }

  /** The work spec's data, exactly as last set. */
  data() {
    const s = this._s;
    return native().__specData(this._c ?? freed(this), s.ns.id, s.id);
  }

  /** Replaces the data and recomputes the metadata; the name may not change. */
  setData(data) {
    const s = this._s;
    native().__specSetData(this._c ?? freed(this), s.ns.id, s.id, data);
  }

  /** The scheduling metadata; `{withCounts: true}` also counts available and pending units. */
  meta(options) {
    const s = this._s;
    return native().__specMeta(this._c ?? freed(this), s.ns.id, s.id, options);
  }

  /** Updates the adjustable metadata fields (missing fields are zero). */
  setMeta(meta) {
    const s = this._s;
    native().__specSetMeta(this._c ?? freed(this), s.ns.id, s.id, meta);
  }

  /** Adds the unit `name`, or replaces the data and metadata of the unit of that name. No `data` means `{}`; no `meta` means zero metadata. */
  addWorkUnit(name, data, meta) {
    const c = this._c ?? freed(this);
    const s = this._s;
    return unitOf(c, s, native().__specAddWorkUnit(c, s.ns.id, s.id, name, data, meta));
  }

  /** Adds or updates many units in one call; returns how many. */
  addWorkUnits(items) {
    const s = this._s;
    return native().__specAddWorkUnits(this._c ?? freed(this), s.ns.id, s.id, items);
  }

  /** The unit called `name` (throws `NoSuchWorkUnitError`). */
  workUnit(name) {
    const c = this._c ?? freed(this);
    const s = this._s;
    return unitOf(c, s, native().__specWorkUnit(c, s.ns.id, s.id, name));
  }

  /** The units the query selects (default: all), by name. */
  workUnits(query) {
    const c = this._c ?? freed(this);
    const s = this._s;
    const ptr = native().__specWorkUnits(c, s.ns.id, s.id, query);
    return byName(c, ptr, () => readUnit(s), (r) => new WorkUnit(INTERNAL, c, r));
  }

  /** How many units have each status (statuses with no units are absent). */
  countWorkUnitStatus() {
    const s = this._s;
    return native().__specCountWorkUnitStatus(this._c ?? freed(this), s.ns.id, s.id);
  }

  /** Sets the priority of every unit the query selects (default: all). */
  setWorkUnitPriorities(priority, query) {
    const s = this._s;
    native().__specSetWorkUnitPriorities(this._c ?? freed(this), s.ns.id, s.id, priority, query);
  }

  /** Adds `adjustment` to the priority of every unit the query selects. */
  adjustWorkUnitPriorities(adjustment, query) {
    const s = this._s;
    native().__specAdjustWorkUnitPriorities(this._c ?? freed(this), s.ns.id, s.id, adjustment, query);
  }

  /** Deletes the units the query selects (default: all); returns how many. */
  deleteWorkUnits(query) {
    const s = this._s;
    return native().__specDeleteWorkUnits(this._c ?? freed(this), s.ns.id, s.id, query);
  }

  /** Unit counts by status. */
  summarize() {
    const s = this._s;
    return native().__specSummarize(this._c ?? freed(this), s.ns.id, s.id);
  }

  /** Whether `other` is a handle to the same work spec. */
  equals(other) {
    const c = this._c ?? freed(this);
    return other instanceof WorkSpec && other._c === c && other._s.id === this._s.id;
  }

  toString() {
    this._c ?? freed(this);
    return `WorkSpec(${quoted(this._s.name)})`;
  }
}

/** A work unit: one input of a work spec, with its data, metadata and attempts. */
export class WorkUnit extends Handle {
  constructor(token, c, unit) {
    internal(token);
    super();
    this._c = c;
    this._u = unit;
  }

  /** The unit's name. */
  get name() {
    this._c ?? freed(this);
    return this._u.name;
  }

  /** The work spec the unit belongs to. */
  get workSpec() {
    return new WorkSpec(INTERNAL, this._c ?? freed(this), this._u.spec);
  }

  /** The unit's data. */
  data() {
    const u = this._u;
    return native().__unitData(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo);
  }

  /** The unit's status (`"available"`, `"pending"`, ...). */
  status() {
    const u = this._u;
    return native().__unitStatus(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo);
  }

  /** The unit's metadata `{priority, notBefore}`. */
  meta() {
    const u = this._u;
    return native().__unitMeta(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo);
  }

  /** Replaces the unit's metadata (missing fields are zero). */
  setMeta(meta) {
    const u = this._u;
    native().__unitSetMeta(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, meta);
  }

  /** The unit's priority. */
  priority() {
    const u = this._u;
    return native().__unitPriority(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo);
  }

  /** Sets the unit's priority. */
  setPriority(priority) {
    const u = this._u;
    native().__unitSetPriority(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, priority);
  }

  /** The attempt that decides the unit's status, or `null`. */
  activeAttempt() {
    const c = this._c ?? freed(this);
    const u = this._u;
    return oneAttempt(c, native().__unitActiveAttempt(c, u.spec.ns.id, u.spec.id, u.hi, u.lo));
  }

  /** Forgets the active attempt, making the unit available again. */
  clearActiveAttempt() {
    const u = this._u;
    native().__unitClearActiveAttempt(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo);
  }

  /** Every attempt on the unit, oldest first. */
  attempts() {
    const c = this._c ?? freed(this);
    const u = this._u;
    return attemptList(c, native().__unitAttempts(c, u.spec.ns.id, u.spec.id, u.hi, u.lo));
  }

  /** How many attempts the unit has had. */
  numAttempts() {
    const u = this._u;
    return native().__unitNumAttempts(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo);
  }

  /** Whether `other` is a handle to the same work unit. */
  equals(other) {
    const c = this._c ?? freed(this);
    if (!(other instanceof WorkUnit) || other._c !== c) return false;
    const [a, b] = [this._u, other._u];
    return a.spec.id === b.spec.id && a.hi === b.hi && a.lo === b.lo;
  }

  toString() {
    this._c ?? freed(this);
    return `WorkUnit(${quoted(this._u.spec.name)}/${quoted(this._u.name)})`;
  }
}

/** A worker: asks for work and holds attempts. Workers form a tree (`parent()`, `children()`). */
export class Worker extends Handle {
  constructor(token, c, worker) {
    internal(token);
    super();
    this._c = c;
    this._w = worker;
  }

  /** The worker's name. */
  get name() {
    this._c ?? freed(this);
    return this._w.name;
  }

  /** The namespace the worker belongs to. */
  get namespace() {
    return new Namespace(INTERNAL, this._c ?? freed(this), this._w.ns);
  }

  /** The parent worker, or `null`. */
  parent() {
    const c = this._c ?? freed(this);
    const w = this._w;
    const ptr = native().__workerParent(c, w.ns.id, w.id);
    return begin(c, ptr) === 0 ? null : new Worker(INTERNAL, c, readWorker());
  }

  /** Moves this worker under `parent`, or makes it a root with `null`. */
  setParent(parent) {
    const c = this._c ?? freed(this);
    const w = this._w;
    if (parent === null || parent === undefined) {
      native().__workerClearParent(c, w.ns.id, w.id);
      return;
    }
    if (!(parent instanceof Worker)) throw native().__badHandle(parent, 'parent', 'Worker');
    const p = parent._w;
    native().__workerSetParent(c, w.ns.id, w.id, parent._c ?? freed(parent), p.ns.id, p.id);
  }

  /** The worker's children, sorted by name. */
  children() {
    const c = this._c ?? freed(this);
    const w = this._w;
    return workerList(c, native().__workerChildren(c, w.ns.id, w.id));
  }

  /** Whether the worker is active. */
  active() {
    const w = this._w;
    return native().__workerActive(this._c ?? freed(this), w.ns.id, w.id);
  }

  /** Marks the worker inactive. */
  deactivate() {
    const w = this._w;
    native().__workerDeactivate(this._c ?? freed(this), w.ns.id, w.id);
  }

  /** The mode last reported by `update` (`""` before). */
  mode() {
    const w = this._w;
    return native().__workerMode(this._c ?? freed(this), w.ns.id, w.id);
  }

  /** The data last reported by `update` (`{}` before). */
  data() {
    const w = this._w;
    return native().__workerData(this._c ?? freed(this), w.ns.id, w.id);
  }

  /** When the worker's last report expires. */
  expiration() {
    const w = this._w;
    return native().__workerExpiration(this._c ?? freed(this), w.ns.id, w.id);
  }

  /** When the worker last reported (or was created). */
  lastUpdate() {
    const w = this._w;
    return native().__workerLastUpdate(this._c ?? freed(this), w.ns.id, w.id);
  }

  /** Records the worker's state as reported by it and marks it active; `now` and `expiration` are stored as given. */
  update(data, now, expiration, mode) {
    const w = this._w;
    native().__workerUpdate(this._c ?? freed(this), w.ns.id, w.id, data, now, expiration, mode);
  }

  /** Asks the scheduler for work; an empty Array when there is none. */
  requestAttempts(request) {
    const c = this._c ?? freed(this);
    const w = this._w;
    // No request: the export without a request and without a Result (0 = it threw).
    const ptr =
      request === undefined || request === null
        ? wasm.__workerRequestAttempts(c, w.ns.id, w.id)
        : wasm.__workerRequestAttemptsWith(c, w.ns.id, w.id, request);
    return attemptList(c, ptr === 0 ? thrown() : ptr);
  }

  /** Starts an attempt on `workUnit` regardless of its state; `lifetimeMs` 0 or absent means 15 minutes. */
  makeAttempt(workUnit, lifetimeMs) {
    const c = this._c ?? freed(this);
    const w = this._w;
    const [uc, uns, us, hi, lo] = unitArg(workUnit, 'workUnit');
    return oneAttempt(c, native().__workerMakeAttempt(c, w.ns.id, w.id, uc, uns, us, hi, lo, lifetimeMs));
  }

  /** The worker's attempts not yet completed, oldest first. */
  activeAttempts() {
    const c = this._c ?? freed(this);
    const w = this._w;
    return attemptList(c, native().__workerActiveAttempts(c, w.ns.id, w.id));
  }

  /** Every attempt the worker ever had, oldest first. */
  allAttempts() {
    const c = this._c ?? freed(this);
    const w = this._w;
    return attemptList(c, native().__workerAllAttempts(c, w.ns.id, w.id));
  }

  /** The active attempts of the worker's children. */
  childAttempts() {
    const c = this._c ?? freed(this);
    const w = this._w;
    return attemptList(c, native().__workerChildAttempts(c, w.ns.id, w.id));
  }

  /** Whether `other` is a handle to the same worker. */
  equals(other) {
    const c = this._c ?? freed(this);
    return other instanceof Worker && other._c === c && other._w.id === this._w.id;
  }

  toString() {
    this._c ?? freed(this);
    return `Worker(${quoted(this._w.name)})`;
  }
}

/** An attempt: one worker's lease on one work unit. Renew it to keep it, then finish, fail, retry or let it expire. */
export class Attempt extends Handle {
  constructor(token, c, unit, worker, id) {
    internal(token);
    super();
    this._c = c;
    this._u = unit;
    this._w = worker;
    this._id = id;
  }

  /** The work unit the attempt is for. */
  get workUnit() {
    return new WorkUnit(INTERNAL, this._c ?? freed(this), this._u);
  }

  /** The worker holding the attempt. */
  get worker() {
    return new Worker(INTERNAL, this._c ?? freed(this), this._w);
  }

  /** The attempt's status (`"pending"`, `"finished"`, ...). */
  status() {
    const u = this._u;
    const w = this._w;
    return native().__attStatus(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id);
  }

  /** The attempt's data. */
  data() {
    const u = this._u;
    const w = this._w;
    return native().__attData(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id);
  }

  /** When the attempt started. */
  startTime() {
    const u = this._u;
    const w = this._w;
    return native().__attStartTime(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id);
  }

  /** When the attempt completed, or `null` while pending. */
  endTime() {
    const u = this._u;
    const w = this._w;
    return native().__attEndTime(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id);
  }

  /** When the lease runs out unless renewed. */
  expirationTime() {
    const u = this._u;
    const w = this._w;
    return native().__attExpirationTime(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id);
  }

  /** Extends the lease to `ms` milliseconds from now, optionally replacing the data. */
  renew(ms, data) {
    const u = this._u;
    const w = this._w;
    native().__attRenew(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id, ms, data);
  }

  /** Gives up the lease (status `"expired"`), optionally replacing the data. */
  expire(data) {
    const u = this._u;
    const w = this._w;
    native().__attExpire(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id, data);
  }

  /** Completes the work, optionally replacing the data (its `output` chains into the spec's `then` spec). */
  finish(data) {
    const u = this._u;
    const w = this._w;
    const c = this._c ?? freed(this);
    if (data === undefined || data === null) {
      // The export without data and without a Result (false = it threw).
      if (!wasm.__attFinish(c, u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id)) thrown();
    } else {
      wasm.__attFinishWith(c, u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id, data);
    }
  }

  /** Fails the work for good, optionally replacing the data. */
  fail(data) {
    const u = this._u;
    const w = this._w;
    native().__attFail(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id, data);
  }

  /** Fails the work so it can be retried after `delayMs` milliseconds (default 0), optionally replacing the data. */
  retry(data, delayMs) {
    const u = this._u;
    const w = this._w;
    native().__attRetry(this._c ?? freed(this), u.spec.ns.id, u.spec.id, u.hi, u.lo, w.ns.id, w.id, this._id, data, delayMs);
  }

  /** Whether `other` is a handle to the same attempt. */
  equals(other) {
    const c = this._c ?? freed(this);
    return other instanceof Attempt && other._c === c && other._id === this._id;
  }

  toString() {
    this._c ?? freed(this);
    const u = this._u;
    return `Attempt(${quoted(u.spec.name)}/${quoted(u.name)} @ ${quoted(this._w.name)})`;
  }
}

// The MockClock class is wasm-bindgen's: it owns its clock in wasm memory.
// Its methods are guarded here so that a freed clock throws `GoneError`
// (not wasm-bindgen's "null pointer passed to rust") and a second `free()`
// does nothing.
function guardClock(MockClock) {
  const proto = MockClock.prototype;
  if (proto.__coordinateGuarded) return;
  const free = proto.free;
  Object.defineProperty(proto, 'free', {
    value() {
      if (this.__wbg_ptr !== 0) free.call(this);
    },
    configurable: true,
    writable: true,
  });
  for (const name of ['now', 'advance', 'set', 'toString', '__coordinateHandle']) {
    const method = proto[name];
    Object.defineProperty(proto, name, {
      value(...args) {
        if (this.__wbg_ptr === 0) freed(this);
        return method.apply(this, args);
      },
      configurable: true,
      writable: true,
    });
  }
  if (typeof Symbol.dispose === 'symbol') {
    Object.defineProperty(proto, Symbol.dispose, {
      value() {
        this.free();
      },
      configurable: true,
      writable: true,
    });
  }
  Object.defineProperty(proto, Symbol.for('nodejs.util.inspect.custom'), {
    value() {
      return this.__wbg_ptr === 0 ? 'MockClock (freed)' : this.toString();
    },
    configurable: true,
  });
  Object.defineProperty(proto, '__coordinateGuarded', { value: true });
}

// ----------------------------------------------------------------- shapes
//
// V8 gives each object a hidden class (a "map") and reaches the map of a
// handle or record by adding its fields one by one (a chain of map
// transitions from the class's initial map). Those transitions are weak: a
// map lives only while some object has it. So once every object of a
// Coordinate is garbage (a store dropped after use, or just a moment with
// no Attempt alive), the next major GC frees the maps, throws away all the
// optimized code that checks for them ("weak objects" in --trace-deopt:
// requestAttempts, finish, the reply reader), and the next Coordinate's
// calls start again in the interpreter and compile everything anew. That
// was most of the fixed cost of a short drain (BENCHMARKS.md, 10k units).
//
// One small Coordinate, made here once per module with a handle of each
// class and an attempt, holds one object of every such map for the life of
// the module, so the maps and the code compiled for them survive. A second
// handle of each class is freed, so that the field `_c` already holds
// `null` somewhere: V8 then need not widen the field's type (and deoptimize
// again) the first time a program calls `free()`.
let shapes = null;

function keepShapes() {
  const coord = new Coordinate({ seed: 0 });
  const ns = coord.namespace('');
  const spec = ns.setWorkSpec({ name: 'shapes' });
  const unit = spec.addWorkUnit('u');
  const worker = ns.worker('w');
  const [attempt] = worker.requestAttempts();
  const freed = [
    coord,
    coord.namespace(''),
    ns.workSpec('shapes'),
    spec.workUnit('u'),
    ns.worker('w'),
    unit.activeAttempt(),
  ];
  for (const handle of freed) handle.free();
  shapes = [coord, ns, spec, unit, worker, attempt, freed];
}

/** Connects this module to the initialized wasm-bindgen module. */
export function install(module) {
  wasm = module;
  memory = module.__memory();
  F64 = new Float64Array(0);
  module.__setErrorFactory(makeError);
  guardClock(module.MockClock);
  if (shapes === null) keepShapes();
}
