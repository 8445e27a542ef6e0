import { CUSTOM_SEARCH_ATTRIBUTES } from '../../contracts/search-attributes';
import { connectToDevServer, TimeSkippingServer } from '../support/temporal';

describe('Temporal servers provisioned for the integration tier', () => {
  it('the dev server has every latchkey search attribute registered', async () => {
    const { connection } = await connectToDevServer();
    try {
      const response = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      for (const { name } of CUSTOM_SEARCH_ATTRIBUTES) {
        expect(Object.keys(response.customAttributes)).toContain(name);
      }
    } finally {
      await connection.close();
    }
  });

  it('the time-skipping test server jumps over a day in well under a minute', async () => {
    const sut = await TimeSkippingServer.start();
    try {
      const before = await sut.currentTimeMs();
      await sut.sleep(86_400_000);
      const after = await sut.currentTimeMs();
      expect(after - before).toBeGreaterThanOrEqual(86_400_000);
    } finally {
      await sut.teardown();
    }
  });
});
