import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';

/**
 * No Docker engine runs on the development and CI machines, so the production shape is checked by
 * reading docker-compose.yml and asserting the properties it must keep.
 */
interface Service {
  image?: string;
  build?: { target?: string };
  ports?: string[];
  healthcheck?: { test: unknown };
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  entrypoint?: string[];
}

const root = path.resolve(__dirname, '..', '..');
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const longRunning = ['postgresql', 'temporal', 'temporal-ui', 'api', 'worker'];

describe('docker-compose.yml (production shape)', () => {
  it('runs PostgreSQL, the Temporal server, its UI, the API and the worker as separate services', () => {
    expect(services.postgresql.image).toMatch(/^postgres:/);
    expect(services.temporal.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-ui'].image).toMatch(/^temporalio\/ui:/);
    expect(services.api.build?.target).toBe('api');
    expect(services.worker.build?.target).toBe('worker');
  });

  it('sets up the schema before the server starts, and registers every custom search attribute', () => {
    expect(services.temporal.depends_on?.['temporal-schema'].condition).toBe('service_completed_successfully');
    const script = fs.readFileSync(path.join(root, 'deploy', 'temporal', 'register-search-attributes.sh'), 'utf8');
    for (const { name, type } of CUSTOM_SEARCH_ATTRIBUTES) {
      expect(script).toContain(`register ${name} ${type}`);
    }
    expect(services.api.depends_on?.['temporal-setup'].condition).toBe('service_completed_successfully');
    expect(services.worker.depends_on?.['temporal-setup'].condition).toBe('service_completed_successfully');
  });

  it('gives every long-running service a health check and a restart policy', () => {
    for (const name of longRunning) {
      expect(services[name].healthcheck?.test).toBeDefined();
      expect(services[name].restart).toBe('unless-stopped');
    }
  });

  it('never publishes the Temporal frontend, and publishes other ports on loopback only', () => {
    expect(services.temporal.ports).toBeUndefined();
    for (const service of Object.values(services)) {
      for (const port of service.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('points the Temporal UI at the API codec endpoint', () => {
    expect(services['temporal-ui'].environment?.TEMPORAL_CODEC_ENDPOINT).toMatch(/\/codec$/);
  });

  it('gives 1Password tokens to the worker only', () => {
    const holders = Object.entries(compose.services)
      .filter(([, service]) => JSON.stringify(service).includes('op_service_account_token'))
      .map(([name]) => name);
    expect(holders).toEqual(['worker']);
  });
});
