// Compiled (not run) by `tsc -p wasm/tests/tsconfig.json` in `make test-wasm`:
// the package's TypeScript types accept the API as documented and reject
// misuse (every @ts-expect-error line must be an error).
import {
  Attempt,
  AttemptStatus,
  Coordinate,
  CoordinateError,
  MockClock,
  NotPendingError,
  WorkSpec,
  WorkUnit,
  WorkUnitStatus,
  extractWorkUnitOutput,
  simplifiedScheduler,
  type AddWorkUnitItem,
  type DataMap,
  type SummaryRecord,
  type WorkSpecMeta,
} from '../pkg-node/index.js';

const clock = new MockClock(new Date('2026-01-01T00:00:00Z'));
const coord = new Coordinate({ clock, seed: 1n });
new Coordinate();
const ns = coord.namespace('ns');
const spec: WorkSpec = ns.setWorkSpec({ name: 's', weight: 3, tags: ['a', 1, null, { deep: new Uint8Array(2) }] });
const unit: WorkUnit = spec.addWorkUnit('u', { k: 1n }, { priority: 2 });
spec.addWorkUnit('v');
spec.addWorkUnits(['a', ['b', { x: 1 }], ['c', null, { notBefore: new Date() }], { key: 'd' }]);
const units: Map<string, WorkUnit> = spec.workUnits({ statuses: [WorkUnitStatus.AVAILABLE], limit: 10 });
const counts: Map<WorkUnitStatus, number> = spec.countWorkUnitStatus();
const meta: WorkSpecMeta = spec.meta({ withCounts: true });
const interval: number = meta.interval;
const next: Date | null = meta.nextContinuous;
spec.setMeta({ weight: 5, paused: false });
const data: DataMap = unit.data();
const status: WorkUnitStatus = unit.status();
const available: 'available' = WorkUnitStatus.AVAILABLE;
const code: number = WorkUnitStatus.codeOf(status);

const worker = ns.worker('w');
const attempts: Attempt[] = worker.requestAttempts({ numberOfWorkUnits: 10, lifetime: 60_000 });
worker.requestAttempts();
for (const a of attempts) {
  const s: AttemptStatus = a.status();
  const end: Date | null = a.endTime();
  a.renew(1000);
  a.finish({ output: ['next'] });
  a.retry(null, 5000);
  a.free();
}
const parent: typeof worker | null = worker.parent();
worker.setParent(null);
const summary: SummaryRecord[] = coord.summarize();
const items: Map<string, AddWorkUnitItem> = extractWorkUnitOutput(['x'], clock.now());
const chosen: string = simplifiedScheduler({ s: { weight: 1, availableCount: 1 } }, clock.now(), 0, { seed: 1 });

try {
  unit.clearActiveAttempt();
} catch (e) {
  if (e instanceof NotPendingError) {
    const c: 'NotPending' = e.code;
  } else if (e instanceof CoordinateError) {
    const c: string = e.code;
  }
}

// @ts-expect-error: names are strings
ns.workSpec(5);
// @ts-expect-error: a Date is not data
spec.setData({ name: 's', when: new Date() });
// @ts-expect-error: statuses are the text forms
spec.workUnits({ statuses: ['Available'] });
// @ts-expect-error: lifetimes are numbers of milliseconds
worker.requestAttempts({ lifetime: '1m' });
// @ts-expect-error: misspelt option
worker.requestAttempts({ numberOfWorkUnit: 3 });
// @ts-expect-error: handles cannot be constructed directly
new WorkUnit();
// @ts-expect-error: instants are Dates
clock.set('2026-01-01');

void [units, counts, interval, next, data, available, code, parent, summary, items, chosen];
