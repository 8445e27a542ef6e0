import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces travel encoded (through the payload codec), so a message can
 * never put something sensitive in plaintext history. Loaded by path: it also runs inside the
 * workflow sandbox.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
