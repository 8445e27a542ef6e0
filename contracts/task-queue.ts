/** The task queue the worker polls and the API starts workflows on, unless configuration names another. */
export const TASK_QUEUE = 'latchkey';

/** Temporal namespace used when configuration does not say otherwise. */
export const DEFAULT_NAMESPACE = 'default';
