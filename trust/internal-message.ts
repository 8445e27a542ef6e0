import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils';
import { canonicalJson } from './canonical-json';

/**
 * Messages between latchkey's own workflows and activities (the vault lease's requests and answers) carry
 * an HMAC-SHA256 with a key only workers hold, bound to the workflow that receives them: a signal anyone
 * sends through Temporal, or one meant for another workflow, is dropped. Pure: the workflow sandbox runs it.
 */
export interface Authenticated {
  /** HMAC-SHA256 of the message (this field left out) and its recipient's workflow id, hex. */
  mac?: string;
}

const KEY = /^[0-9a-f]{64}$/;

function digest(keyHex: string, message: object, recipient: string): Uint8Array {
  const { mac: _mac, ...rest } = message as Authenticated;
  const text = `latchkey-internal-v1\n${recipient}\n${canonicalJson(rest)}`;
  return hmac(sha256, hexToBytes(keyHex), utf8ToBytes(text));
}

/** The message with its MAC for this recipient; throws when no key is configured. */
export function withMac<Message extends object>(keyHex: string, message: Message, recipient: string): Message {
  if (!KEY.test(keyHex)) throw new Error('no internal message key is configured');
  return { ...message, mac: bytesToHex(digest(keyHex, message, recipient)) };
}

/** Whether the message carries the MAC of this recipient under this key. */
export function macHolds(keyHex: string, message: unknown, recipient: string): boolean {
  const mac = (message as Authenticated | null)?.mac;
  // Without a key nothing is authentic: an empty key would be one everybody holds.
  if (!KEY.test(keyHex) || typeof message !== 'object' || message === null) return false;
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) {
    return false;
  }
  const expected = digest(keyHex, message, recipient);
  const given = hexToBytes(mac);
  // Compared in full whatever differs, so the time taken says nothing about the expected value.
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= expected[i] ^ given[i];
  return difference === 0;
}
