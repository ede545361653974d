// V8 options the API's process is started with (`npm start`, the bench). They cannot be set from
// inside the process: V8 reads them when it creates the heap.
//
// --no-memory-reducer: V8's memory reducer runs a full garbage collection that drops every map
// (hidden class) no live object uses once a process goes quiet after a busy spell. Between two
// bursts of requests no `process.nextTick` object is alive, so the maps of those objects die;
// the inline caches of the object literal that builds them, in Node's `nextTick`, then see
// new maps, and V8 marks that literal's computed-key stores megamorphic for good (it has no
// polymorphic state for them). From then on every nextTick object, one or more per response
// written, is built in V8's runtime: 10–15 % more CPU per cached-token request, in any Node
// process that was once idle after a full collection (decision 0023, bench/README.md). Without
// the reducer, an idle process keeps the heap it grew to under load.
export const API_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
