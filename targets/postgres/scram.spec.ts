import { createHash, createHmac } from 'node:crypto';
import { TargetError } from '../port';
import { scramSha256Keys, scramSha256Verifier } from './scram';

/**
 * RFC 7677 §3's exchange (user "user", password "pencil"). The RFC gives the client's proof and the server's
 * signature, not the keys; both follow from the keys, so checking them checks the keys.
 */
const RFC7677 = {
  password: 'pencil',
  salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
  iterations: 4096,
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalWithoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  clientProof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};
const authMessage = [RFC7677.clientFirstBare, RFC7677.serverFirst, RFC7677.clientFinalWithoutProof].join(',');
const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();

describe(scramSha256Keys.name, () => {
  const sut = scramSha256Keys(RFC7677.password, RFC7677.salt, RFC7677.iterations);

  it('has the ServerKey that signs RFC 7677’s exchange', () => {
    expect(hmac(sut.serverKey, authMessage).toString('base64')).toBe(RFC7677.serverSignature);
  });

  it('has the StoredKey that accepts RFC 7677’s client proof (StoredKey = H(ClientProof XOR ClientSignature))', () => {
    const proof = Buffer.from(RFC7677.clientProof, 'base64');
    const signature = hmac(sut.storedKey, authMessage);
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ signature[i]));
    expect(createHash('sha256').update(clientKey).digest()).toEqual(sut.storedKey);
  });

  it('refuses a password outside ASCII, which PostgreSQL would run through SASLprep first', () => {
    expect(() => scramSha256Keys('pässword')).toThrow(TargetError);
  });
});

describe(scramSha256Verifier.name, () => {
  it('is in PostgreSQL’s format, with 4096 iterations and a 16-byte salt', () => {
    const sut = scramSha256Verifier('pencil');
    const match = /^SCRAM-SHA-256\$4096:([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(sut);
    expect(match).not.toBeNull();
    expect(Buffer.from(match![1], 'base64')).toHaveLength(16);
    expect(Buffer.from(match![2], 'base64')).toHaveLength(32);
    expect(sut).not.toContain('pencil');
  });

  it('takes a new salt each time, so setting the same password twice gives two verifiers', () => {
    expect(scramSha256Verifier('pencil')).not.toBe(scramSha256Verifier('pencil'));
  });

  it('writes RFC 7677’s salt and iterations as given', () => {
    expect(scramSha256Verifier(RFC7677.password, RFC7677.salt)).toMatch(
      /^SCRAM-SHA-256\$4096:W22ZaJ0SNY7soEsUEjb6gQ==\$/,
    );
  });
});
