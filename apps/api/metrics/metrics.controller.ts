import { Controller, Get, Header } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../docs/error-responses';
import { RequireRole } from '../identity/decorators';
import { ApiMetrics } from './api-metrics';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: ApiMetrics) {}

  /** Operators' numbers, not everyone's: a token with the auditor or admin role scrapes them. */
  @Get()
  @RequireRole('auditor', 'admin')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Prometheus metrics (auditor or admin token)' })
  // Only the metrics are text; refusals are in the API's JSON error shape.
  @ApiOkResponse({
    description: 'Prometheus text exposition format.',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiErrors({ 403: 'Neither an auditor nor an admin.' })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
