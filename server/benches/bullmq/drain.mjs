// BullMQ on Redis, the peer in the HTTP benchmark (python/benches/bench_http.py,
// `make bench-http`): add N no-op jobs, then drain them with W worker
// processes, each a BullMQ Worker with the given concurrency.
//
//   node server/benches/bullmq/drain.mjs --port 6379 --units 20000 --workers 4 --concurrency 1
//
// Prints one JSON line: {"units", "workers", "concurrency", "add_s", "drain_s",
// "per_worker": [...]}. The drain is timed from the moment every worker
// process is connected and told to start until Redis counts N completed jobs;
// worker start-up (node, connections) is not timed, as the Python clients'
// start-up is not timed either. Jobs use BullMQ's default options (completed
// jobs are kept in Redis).
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const port = Number(arg("--port", "6379"));
const connection = { host: "127.0.0.1", port };
const queueName = arg("--queue", `drain-${process.pid}`);

if (process.argv.includes("--child")) {
  // A worker process: connect, say ready, start on "go", stop on "stop".
  const concurrency = Number(arg("--concurrency", "1"));
  let done = 0;
  const worker = new Worker(queueName, async () => null, {
    connection,
    concurrency,
    autorun: false,
  });
  worker.on("completed", () => {
    done += 1;
  });
  worker.on("error", (e) => {
    console.error(`worker error: ${e}`);
  });
  await worker.waitUntilReady();
  process.on("message", async (m) => {
    if (m === "go") {
      worker.run().catch((e) => console.error(`worker run: ${e}`));
    } else if (m === "stop") {
      await worker.close();
      process.send({ done }, () => process.exit(0));
    }
  });
  process.send("ready");
} else {
  const units = Number(arg("--units", "20000"));
  const workers = Number(arg("--workers", "1"));
  const concurrency = Number(arg("--concurrency", "1"));
  const queue = new Queue(queueName, { connection });
  await queue.obliterate({ force: true }).catch(() => {});
  const addStart = process.hrtime.bigint();
  for (let lo = 0; lo < units; lo += 1000) {
    const jobs = [];
    for (let i = lo; i < Math.min(units, lo + 1000); i++) {
      jobs.push({ name: "noop", data: { i } });
    }
    await queue.addBulk(jobs);
  }
  const addS = Number(process.hrtime.bigint() - addStart) / 1e9;
  const self = fileURLToPath(import.meta.url);
  const children = [];
  for (let w = 0; w < workers; w++) {
    const child = fork(self, [
      "--child", "--port", String(port), "--queue", queueName,
      "--concurrency", String(concurrency),
    ]);
    children.push(child);
  }
  await Promise.all(
    children.map((c) => new Promise((resolve) => c.once("message", resolve))),
  );
  const start = process.hrtime.bigint();
  for (const c of children) c.send("go");
  for (;;) {
    const counts = await queue.getJobCounts("completed", "failed");
    if (counts.completed + counts.failed >= units) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const drainS = Number(process.hrtime.bigint() - start) / 1e9;
  const perWorker = await Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => {
          c.once("message", (m) => resolve(m.done));
          c.send("stop");
        }),
    ),
  );
  const counts = await queue.getJobCounts("completed", "failed", "wait", "active");
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  console.log(JSON.stringify({
    units, workers, concurrency, add_s: addS, drain_s: drainS,
    per_worker: perWorker, counts,
  }));
  if (counts.completed !== units || perWorker.reduce((a, b) => a + b, 0) !== units) {
    console.error(`BullMQ drained ${JSON.stringify(counts)}, expected ${units} completed`);
    process.exit(1);
  }
  process.exit(0);
}
