// First: every module loaded after it has its stack traces mapped to the sources.
import '../../config/source-maps';
import { Client } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../activities';
import { createDataConverter, loadCodecKeyring } from '../../codec';
import { loadConfig } from '../../config/config';
import { temporalConnectionOptions } from '../../config/temporal-connection';
import { CATALOG_WORKFLOW_ID, catalogQuery } from '../../contracts/catalog';
import { policyEligibility } from './eligibility';
import { ADMINS } from '../../contracts/notifications';
import { notifierFor } from './notifier';
import { integrationUnusable } from '../../onepassword/check';
import { integrationsOf, type LoadedPolicy, loadPolicyFile } from '../../policy';
import type { catalogWorkflow } from '../../workflows/catalog';
import { reportRateBudgets } from './budget-metrics';
import { ensureReconcileSchedule, keepTryingReconcileSchedule } from './reconcile-schedule';
import { checkIntegration } from './onepassword-check';
import { boundWorkerHeapGrowth } from './heap-growth';
import { createWorkerPorts } from './ports';
import { checkTargets, createTargetPorts } from './targets';
import { loadWorkerTrust } from './trust';
import { createLatchkeyWorker } from './worker';

const CATALOG_REFRESH_MS = 5 * 60_000;

/**
 * The worker process (the "connector"): runs where the 1Password tokens live, makes only outbound
 * connections, and several may run side by side. Stops cleanly on SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  boundWorkerHeapGrowth();
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'latchkey-worker' } });

  Runtime.install({
    telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.worker.metricsPort}` } } },
  });

  const dataConverter = createDataConverter(await loadCodecKeyring(config.codec), {
    plaintext: 'refuse',
    onRefused: (reason) => logger.warn({ reason }, 'refused a payload that latchkey did not encrypt'),
  });
  const trust = await loadWorkerTrust(config);
  logger.info({ keyIds: Object.keys(trust.commandKeys) }, 'accepting commands signed by these API keys');
  const policy = loadPolicyFile(config.policyFile);
  const integrations = integrationsOf(policy);

  const notifier = notifierFor(config, logger);
  const ports = createWorkerPorts(policy, config, {
    logger,
    onUnrecognisedFailure: (failure) => {
      // An SDK upgrade (or a new 1Password answer) that the classifier does not know: retried, and told once.
      logger.warn(failure, '1Password failed with an error latchkey does not recognise; retrying it');
      const at = new Date().toISOString();
      notifier
        .notify({
          kind: 'onepassword-error-unrecognised',
          eventId: `onepassword-error-unrecognised:${failure.integration}:${failure.fingerprint}`,
          requestId: 'worker',
          resourceId: '',
          integration: failure.integration,
          recipients: [ADMINS],
          at,
          details: { errorClass: failure.errorClass, fingerprint: failure.fingerprint },
        })
        .catch((error: unknown) =>
          logger.warn({ err: error }, 'could not tell admins of an unrecognised 1Password error'),
        );
    },
  });
  for (const { name } of integrations) {
    const report = await checkIntegration(policy, ports, name);
    for (const { severity, subject, message } of report.findings) {
      logger[severity === 'error' ? 'error' : 'warn']({ integration: name, subject }, `1Password check: ${message}`);
    }
    if (integrationUnusable(report) && config.worker.onePasswordCheck === 'refuse') {
      logger.error({ integration: name }, 'new grants of this integration are refused while it cannot work');
      ports.refuseGrants(name, `integration "${name}" failed its 1Password check at the worker's start`);
    }
  }
  const targets = createTargetPorts(policy);
  for (const finding of await checkTargets(policy, targets)) {
    if (finding.ok) logger.info({ target: finding.target }, `target check: ${finding.message}`);
    else logger.warn({ target: finding.target }, `target check: ${finding.message}; ending access will keep trying`);
  }
  const stopBudgetReports = reportRateBudgets(Runtime.instance().metricMeter, ports.sdkAdapters);

  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  // The activities' client (acknowledged heartbeats, lease messages) shares the worker's native connection: a call
  // through Rust costs half the CPU of one through grpc-js, and it is one connection less.
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter });

  const worker = await createLatchkeyWorker({
    workflowBundle: config.worker.workflowBundle ? { codePath: config.worker.workflowBundle } : undefined,
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter,
    trust,
    tuning: { maxCachedWorkflows: config.worker.maxCachedWorkflows },
    activities: createActivities({
      trust,
      onePassword: ports.forIntegration,
      notifier,
      logger,
      temporal: client,
      targets,
      integrations: integrations.map(({ name, reconcile }) => ({
        name,
        repair: reconcile === 'repair',
        groupIds: groupIdsOf(policy, name),
      })),
      eligibility: policyEligibility(
        () => policy,
        () => client.workflow.getHandle(CATALOG_WORKFLOW_ID).query(catalogQuery),
      ),
    }),
  });

  // The catalog entity: started once, found again by every later worker.
  await client.workflow.start<typeof catalogWorkflow>('catalogWorkflow', {
    workflowId: CATALOG_WORKFLOW_ID,
    taskQueue: config.temporal.taskQueue,
    args: [
      { integrations: integrations.map((integration) => integration.name), refreshIntervalMs: CATALOG_REFRESH_MS },
    ],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: 'Resource catalog: vaults and items of every integration',
  });

  let stopping = false;
  void keepTryingReconcileSchedule(
    () => ensureReconcileSchedule(client, { taskQueue: config.temporal.taskQueue, everyMs: config.reconcile.everyMs }),
    {
      onFailure: (error, attempt) =>
        logger.warn({ err: error, attempt }, 'could not bring the reconcile schedule up to date yet; trying again'),
      stopped: () => stopping,
    },
  );

  const stop = (signal: string) => {
    // Ctrl-C in a terminal signals every process, and `npm start` then asks again with SIGTERM.
    if (worker.getState() !== 'RUNNING') return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    worker.shutdown();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      namespace: config.temporal.namespace,
      metricsPort: config.worker.metricsPort,
    },
    'worker running',
  );
  try {
    await worker.run();
  } finally {
    stopping = true;
    stopBudgetReports();
    await ports.close();
    await connection.close();
    logger.info('worker stopped');
  }
}

/** The 1Password groups the vault-group resources of an integration name: the catalog describes them. */
function groupIdsOf(policy: LoadedPolicy, integration: string): string[] {
  const ids = policy.resources.flatMap((resource) =>
    resource.type === 'vault' && resource.integration === integration
      ? resource.groups.map((group) => group.onePasswordGroup)
      : [],
  );
  return [...new Set(ids)];
}

main().catch((error: unknown) => {
  process.stderr.write(`latchkey worker failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
