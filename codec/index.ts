export * from './codec-key';
export * from './encryption-codec';
