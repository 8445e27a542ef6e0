import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../errors/api-error';
import type { Caller } from '../identity/caller';
import { CurrentCaller, RequireRole } from '../identity/decorators';
import { ErrorResponseDto } from '../requests/dto/request-view.dto';
import { RequestsService, type EmergencyRevokeReport } from '../requests/requests.service';
import { EmergencyRevokeDto, EmergencyRevokeReportDto } from './emergency-revoke.dto';

@ApiTags('admin')
@ApiBearerAuth()
@Controller('v1/admin')
export class AdminController {
  constructor(private readonly requests: RequestsService) {}

  @Post('revoke')
  @HttpCode(200)
  @RequireRole('admin')
  @ApiOperation({ summary: 'Emergency stop: revoke every active grant of a requester and/or a resource (admin)' })
  @ApiOkResponse({ type: EmergencyRevokeReportDto })
  @ApiResponse({ status: 403, description: 'Not an admin.', type: ErrorResponseDto })
  emergencyRevoke(@CurrentCaller() caller: Caller, @Body() body: EmergencyRevokeDto): Promise<EmergencyRevokeReport> {
    if (!body.requesterId && !body.resourceId) {
      throw new ApiError(400, 'validation-failed', 'Name a requesterId, a resourceId, or both.', [
        { field: 'requesterId', problems: ['requesterId or resourceId is required'] },
      ]);
    }
    return this.requests.emergencyRevoke(caller, body);
  }
}
