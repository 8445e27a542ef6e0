/**
 * Imported first by the API and the worker: stack traces of the main thread point into the TypeScript sources,
 * as `--enable-source-maps` would make them (only files loaded after this are mapped). Not that flag itself: a
 * worker thread inherits it, and in the worker's workflow thread it made every function the SDK compiles for
 * each workflow promise look for a source map, about 4 % of the worker's CPU; the SDK maps workflow stack traces
 * itself.
 */
process.setSourceMapsEnabled(true);
