// Coordinate for browsers: call `await init()` once before anything else.
import type { InitInput, InitOutput, SyncInitInput } from './coordinate_wasm.js';
export * from './coordinate_wasm.js';
export * from './api.js';
export type { InitInput, InitOutput, SyncInitInput };

/** Loads and instantiates the WebAssembly module (by default from next to this file). */
export default function init(
  moduleOrPath?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>,
): Promise<InitOutput>;

/** Instantiates the WebAssembly module synchronously. */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;
