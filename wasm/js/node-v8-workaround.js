// Works around a crash of V8 11 (Node 20): when TurboFan inlines a call from
// JavaScript into WebAssembly and later deoptimizes that code while the call
// is on the stack, V8 11.3 can abort the process ("Fatal error ... unreachable
// code" in Deoptimizer::DoComputeBuiltinContinuation). The module is built
// with wasm exception handling (so a Rust panic is a catchable PanicError),
// and its glue wraps every call in try/catch, which makes the crash likely
// (about one run in six of examples/simulation.mjs). Turning off that one
// inlining avoids it at no measurable cost. V8 12+ (Node 22+) is unaffected
// and left alone. Imported first by index.js, before any code gets optimized.
import v8 from 'node:v8';

const major = Number(process.versions.v8.split('.')[0]);
if (major < 12) v8.setFlagsFromString('--no-turbo-inline-js-wasm-calls');
