import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Client } from '@temporalio/client';
import { ApiErrors } from '../docs/error-responses';
import { ApiError } from '../errors/api-error';
import { Public } from '../identity/decorators';
import { TEMPORAL_CLIENT } from '../tokens';

const statusSchema = (status: string) => ({
  type: 'object' as const,
  properties: { status: { type: 'string' as const, enum: [status] } },
  required: ['status'],
});

/** How long readiness waits for Temporal before saying no. */
const READINESS_DEADLINE_MS = 2_000;

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  @Public()
  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiOkResponse({ schema: statusSchema('ok') })
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: Temporal answers within a short deadline' })
  @ApiOkResponse({ schema: statusSchema('ready') })
  @ApiErrors({ 503: 'Temporal is not reachable.' })
  async ready(): Promise<{ status: 'ready' }> {
    try {
      await this.client.connection.withDeadline(Date.now() + READINESS_DEADLINE_MS, () =>
        this.client.workflowService.getSystemInfo({}),
      );
    } catch {
      throw new ApiError(503, 'not-ready', 'Temporal is not reachable.');
    }
    return { status: 'ready' };
  }
}
