export * from './notifier';
export * from './log-notifier';
export * from './webhook-notifier';
