import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import { Omittable } from '../errors/validation';
import { CALLER_ID_PATTERN } from '../identity/caller';
import { MAX_COMMENT } from '../requests/dto/request-input.dto';
import { RESOURCE_ID_PATTERN } from '../requests/visibility-query';

export class EmergencyRevokeDto {
  @ApiPropertyOptional({
    example: 'alice',
    description: 'Revoke every active grant of this requester.',
    pattern: CALLER_ID_PATTERN.source,
  })
  @Omittable()
  @IsString()
  @Matches(CALLER_ID_PATTERN, { message: 'requesterId must be a subject id' })
  requesterId?: string;

  @ApiPropertyOptional({
    example: 'prod-db',
    description: 'Revoke every active grant of this resource.',
    pattern: RESOURCE_ID_PATTERN.source,
  })
  @Omittable()
  @IsString()
  @Matches(RESOURCE_ID_PATTERN, { message: 'resourceId must be a resource id such as prod-db' })
  resourceId?: string;

  @ApiPropertyOptional({ example: 'Laptop stolen', maxLength: MAX_COMMENT })
  @Omittable()
  @IsString()
  @MaxLength(MAX_COMMENT)
  reason?: string;
}

export class EmergencyRevokeOutcomeDto {
  @ApiProperty() requestId!: string;
  @ApiProperty({ enum: ['revoked', 'refused', 'failed'] }) outcome!: string;
  @ApiPropertyOptional({ description: 'The status after the attempt, when known.' }) status?: string;
  @ApiPropertyOptional({ description: 'Error code when not revoked.' }) code?: string;
}

export class EmergencyRevokeReportDto {
  @ApiProperty({ description: 'Active grants that matched.' }) matched!: number;
  @ApiProperty() revoked!: number;
  @ApiProperty({ type: [EmergencyRevokeOutcomeDto] }) results!: EmergencyRevokeOutcomeDto[];
}
