// The summary of a run as a text table (Node) — the page shows the same
// figures as an HTML table.

const pct = (x) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const secs = (x) => (x === null ? '-' : `${x.toFixed(1)}s`);

/** Rows of the summary table: the header and one row of strings per spec. */
export function summaryRows(summary) {
  const header = ['spec', 'prio', 'weight', 'arrived', 'finished', 'per hour', 'retried', 'expired', 'failed', 'queued', 'fleet share', 'prio share', 'weight share', 'wait p50', 'wait p95'];
  const rows = summary.specs.map((s) => [
    s.name,
    String(s.priority),
    String(s.weight),
    String(s.arrived),
    String(s.finished),
    s.perHour.toFixed(1),
    String(s.retried),
    String(s.expired),
    String(s.failed),
    String(s.queued),
    pct(s.fleetShare),
    pct(s.groupShare),
    pct(s.weightShare),
    secs(s.waitP50),
    secs(s.waitP95),
  ]);
  return { header, rows };
}

/** The summary as aligned text. */
export function formatSummary(summary) {
  const { header, rows } = summaryRows(summary);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [
    `Coordinate simulator: seed ${summary.seed}, ${summary.workers} workers, ${summary.hours} simulated hours, ${summary.events} events`,
    '',
    line(header),
    ...rows.map(line),
    '',
    `finished ${summary.finished} units (${(summary.finished / summary.hours).toFixed(1)} per hour); the fleet was busy ${pct(summary.utilization)} of the time`,
    'fleet share: of all worker time, the part spent on the spec; prio share: of the worker time spent on specs of its priority,',
    'the part on this spec (the scheduler steers it toward the weight share); wait: from available to start, every start',
  ].join('\n');
}
