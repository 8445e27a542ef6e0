import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Client } from '@temporalio/client';
import { ApiError } from '../errors/api-error';
import { Public } from '../identity/decorators';
import { CatalogService } from '../resources/catalog.service';
import { TEMPORAL_CLIENT } from '../tokens';

/** How long readiness waits for Temporal before saying no. */
const READINESS_DEADLINE_MS = 2_000;

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    @Inject(TEMPORAL_CLIENT) private readonly client: Client,
    private readonly catalog: CatalogService,
  ) {}

  @Public()
  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: Temporal answers, and the worker has published the resource catalog' })
  @ApiOkResponse({ schema: { example: { status: 'ready' } } })
  @ApiResponse({ status: 503, description: 'Temporal is not reachable, or no worker has read 1Password yet.' })
  async ready(): Promise<{ status: 'ready' }> {
    try {
      await this.client.connection.withDeadline(Date.now() + READINESS_DEADLINE_MS, () =>
        this.client.workflowService.getSystemInfo({}),
      );
    } catch {
      throw new ApiError(503, 'not-ready', 'Temporal is not reachable.');
    }
    // Without the catalog the API can refuse every new request only, so it is not ready yet.
    await this.catalog.get();
    return { status: 'ready' };
  }
}
