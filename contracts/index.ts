export * from './identity';
export * from './ids';
export * from './messages';
export * from './request';
export * from './search-attributes';
export * from './snapshot';
export * from './task-queue';
export * from './catalog';
