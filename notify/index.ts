export * from './notifier';
export * from './dispatcher';
export * from './email-channel';
export * from './slack-channel';
export * from './webhook-channel';
