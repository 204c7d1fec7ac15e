// Coordinate for Node. Classes, free functions and record types come from
// the wasm-bindgen module; statuses and errors from api.js.
export * from './coordinate_wasm.js';
export * from './api.js';
