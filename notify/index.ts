export * from './events';
export * from './log-notifier';
export * from './webhook-notifier';
