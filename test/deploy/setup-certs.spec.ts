import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';

/**
 * The certificates that the compose setup makes (deploy/setup/make-certs.sh, with this machine's openssl): a
 * server presenting the `temporal` certificate and requiring client certificates, as the Temporal frontend does
 * with TEMPORAL_TLS_REQUIRE_CLIENT_AUTH, lets latchkey's clients in and keeps out anyone without one of the CA's
 * certificates. (No Docker engine runs here, and the Temporal dev server speaks no TLS: this is the handshake.)
 */
const script = path.resolve(__dirname, '..', '..', 'deploy', 'setup', 'make-certs.sh');
const PARTIES = ['ca', 'temporal', 'ui', 'admin', 'api', 'worker'];

describe('deploy/setup/make-certs.sh', () => {
  let root: string;
  let server: tls.Server;
  let port: number;
  const read = (...parts: string[]) => fs.readFileSync(path.join(root, ...parts));
  const make = () => execFileSync('/bin/sh', [script, root], { encoding: 'utf8' });

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-certs-'));
    for (const party of PARTIES) fs.mkdirSync(path.join(root, party));
    make();
    server = tls.createServer(
      {
        cert: read('temporal', 'tls.crt'),
        key: read('temporal', 'tls.key'),
        ca: read('temporal', 'ca.crt'),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => socket.end('hello'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    fs.rmSync(root, { recursive: true, force: true });
  });

  /**
   * What the client gets: the server's greeting, or nothing. With TLS 1.3 the server checks the client's
   * certificate after the client's side of the handshake is done, so a refusal is an alert or an empty close.
   */
  function connect(options: tls.ConnectionOptions): Promise<string> {
    return new Promise((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'temporal', ...options }, () => {
        socket.setEncoding('utf8');
        let text = '';
        socket.on('data', (chunk: string) => (text += chunk));
        socket.on('end', () => resolve(text));
      });
      socket.on('error', (error) => resolve(`refused: ${error.message}`));
    });
  }

  it.each(['api', 'worker', 'ui', 'admin'])(
    'lets the %s in with its certificate, checking the server is temporal',
    async (party) => {
      await expect(
        connect({ ca: read(party, 'ca.crt'), cert: read(party, 'tls.crt'), key: read(party, 'tls.key') }),
      ).resolves.toBe('hello');
    },
  );

  it('refuses a client without a certificate', async () => {
    expect(await connect({ ca: read('api', 'ca.crt') })).not.toBe('hello');
  });

  it('refuses a client whose certificate another CA signed', async () => {
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-other-ca-'));
    try {
      for (const party of PARTIES) fs.mkdirSync(path.join(other, party));
      execFileSync('/bin/sh', [script, other]);
      const outcome = await connect({
        ca: read('api', 'ca.crt'),
        cert: fs.readFileSync(path.join(other, 'api', 'tls.crt')),
        key: fs.readFileSync(path.join(other, 'api', 'tls.key')),
      });
      expect(outcome).not.toBe('hello');
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('makes clients refuse a server whose certificate does not name the host they asked for', async () => {
    const options = { ca: read('api', 'ca.crt'), cert: read('api', 'tls.crt'), key: read('api', 'tls.key') };
    expect(await connect({ ...options, servername: 'api.example.com' })).toMatch(/^refused: .*altnames/);
  });

  it('keeps every certificate and key when run again', () => {
    const before = PARTIES.map((party) => read(party, party === 'ca' ? 'ca.key' : 'tls.key').toString());
    expect(make()).not.toContain('created');
    expect(PARTIES.map((party) => read(party, party === 'ca' ? 'ca.key' : 'tls.key').toString())).toEqual(before);
  });

  it('signs client certificates for client authentication only', () => {
    const text = execFileSync('openssl', ['x509', '-noout', '-text', '-in', path.join(root, 'api', 'tls.crt')], {
      encoding: 'utf8',
    });
    expect(text).toMatch(/Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    expect(text).toContain('CA:FALSE');
  });
});
