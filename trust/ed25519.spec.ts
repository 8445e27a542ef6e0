import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519';
import { cachedKeyEd25519, type SignatureCheck, strictEd25519 } from './ed25519';
import { nodeEd25519 } from './node-ed25519';

/** A key pair made and used by OpenSSL: an implementation independent of the ones under test. */
function opensslSigner(): { publicKeyHex: string; sign: (message: Uint8Array) => Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x!;
  return {
    publicKeyHex: Buffer.from(x, 'base64url').toString('hex'),
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

const ORDER = ed25519.Point.Fn.ORDER;

function withScalar(signature: Uint8Array, scalar: bigint): Uint8Array {
  const changed = new Uint8Array(signature);
  let rest = scalar;
  for (let i = 32; i < 64; i++) {
    changed[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return changed;
}

function scalarOf(signature: Uint8Array): bigint {
  return signature.subarray(32).reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

describe('Ed25519 signature checks', () => {
  const checks: Array<[string, SignatureCheck]> = [
    ['strict (noble)', strictEd25519],
    ['cached key (noble, step by step)', cachedKeyEd25519()],
    ['node:crypto (OpenSSL)', nodeEd25519()],
  ];
  const signer = opensslSigner();
  const message = new TextEncoder().encode('latchkey-command-v1\n{"kind":"approve"}');
  const signature = signer.sign(message);

  it.each(checks)('%s accepts signatures made by OpenSSL, for many keys and messages', (_name, check) => {
    for (let i = 0; i < 40; i++) {
      const other = opensslSigner();
      const text = randomBytes(i * 7);
      expect(check(other.sign(text), text, other.publicKeyHex)).toBe(true);
    }
  });

  it.each(checks)('%s refuses a signature with any one bit changed', (_name, check) => {
    for (let bit = 0; bit < 512; bit += 3) {
      const changed = new Uint8Array(signature);
      changed[bit >> 3] ^= 1 << (bit & 7);
      expect(check(changed, message, signer.publicKeyHex)).toBe(false);
    }
  });

  it.each(checks)('%s refuses a changed message and another key', (_name, check) => {
    const changed = new Uint8Array(message);
    changed[5] ^= 0x20;
    expect(check(signature, changed, signer.publicKeyHex)).toBe(false);
    expect(check(signature, message, opensslSigner().publicKeyHex)).toBe(false);
  });

  it.each(checks)(
    '%s refuses the malleated signature (s + L), which verifies in loose implementations',
    (_name, check) => {
      expect(check(withScalar(signature, scalarOf(signature) + ORDER), message, signer.publicKeyHex)).toBe(false);
    },
  );

  it.each(checks)('%s refuses malformed keys and signatures without throwing', (_name, check) => {
    expect(check(signature.subarray(0, 63), message, signer.publicKeyHex)).toBe(false);
    expect(check(signature, message, signer.publicKeyHex.slice(0, 62))).toBe(false);
    // y = p (2^255 - 19) is not a canonical encoding of any point.
    const nonCanonical = 'ed' + 'ff'.repeat(30) + '7f';
    expect(check(signature, message, nonCanonical)).toBe(false);
  });

  it.each(checks.slice(0, 2))(
    '%s refuses a key of small order, for which a "signature" anyone can make verifies',
    (_name, check) => {
      // The identity point as the key, and R = identity, s = 0: [8][0]B = [8]R + [8][k]A holds for any message.
      const identity = '01' + '00'.repeat(31);
      const forged = new Uint8Array(64);
      forged[0] = 1;
      expect(ed25519.verify(forged, message, Buffer.from(identity, 'hex'), { zip215: true })).toBe(true);
      expect(check(forged, message, identity)).toBe(false);
    },
  );

  it('the cached check agrees with noble for more keys than it keeps', () => {
    const sut = cachedKeyEd25519();
    const signers = Array.from({ length: 20 }, opensslSigner);
    for (let round = 0; round < 2; round++) {
      for (const each of signers) {
        expect(sut(each.sign(message), message, each.publicKeyHex)).toBe(true);
        expect(sut(signature, message, each.publicKeyHex)).toBe(strictEd25519(signature, message, each.publicKeyHex));
      }
    }
  });
});
