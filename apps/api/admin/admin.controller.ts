import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  getSchemaPath,
} from '@nestjs/swagger';
import { ApiErrors, TEMPORAL_AWAY } from '../docs/error-responses';
import { ApiError } from '../errors/api-error';
import type { Caller } from '../identity/caller';
import { CurrentCaller, RequireRole } from '../identity/decorators';
import { RequestsService, type EmergencyRevokeReport } from '../requests/requests.service';
import { EmergencyRevokeDto, EmergencyRevokeReportDto } from './emergency-revoke.dto';

@ApiTags('admin')
@ApiBearerAuth()
@ApiExtraModels(EmergencyRevokeDto)
@Controller('v1/admin')
export class AdminController {
  constructor(private readonly requests: RequestsService) {}

  @Post('revoke')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Emergency stop: revoke every active grant of a requester and/or a resource (admin)' })
  // The body names a requester, a resource or both: the document says so beside the DTO's fields.
  @ApiBody({
    required: true,
    schema: {
      allOf: [{ $ref: getSchemaPath(EmergencyRevokeDto) }],
      anyOf: [{ required: ['requesterId'] }, { required: ['resourceId'] }],
    },
  })
  @ApiOkResponse({ type: EmergencyRevokeReportDto })
  @ApiErrors({ 403: 'Not an admin.', 503: TEMPORAL_AWAY })
  emergencyRevoke(@CurrentCaller() caller: Caller, @Body() body: EmergencyRevokeDto): Promise<EmergencyRevokeReport> {
    if (!body.requesterId && !body.resourceId) {
      throw new ApiError(400, 'validation-failed', 'Name a requesterId, a resourceId, or both.', [
        { field: 'requesterId', problems: ['requesterId or resourceId is required'] },
      ]);
    }
    return this.requests.emergencyRevoke(caller, body);
  }
}
