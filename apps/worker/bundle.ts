import * as fs from 'node:fs';
import * as path from 'node:path';
import { bundleLatchkeyWorkflows } from './worker';

/**
 * `node dist/apps/worker/bundle.js OUT`: bundles the workflow code once, at image build time, so
 * workers start fast and run exactly the code that was built (LATCHKEY_WORKFLOW_BUNDLE=OUT).
 */
async function main(out: string | undefined): Promise<void> {
  if (!out) throw new Error('usage: node dist/apps/worker/bundle.js OUTPUT_FILE');
  const { code } = await bundleLatchkeyWorkflows();
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, code);
  process.stderr.write(`workflow bundle written to ${out} (${Math.round(code.length / 1024)} KiB)\n`);
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
