import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { REQUEST_STATUSES, type RequestStatus } from '../../../../contracts/request';
import { CALLER_ID_PATTERN } from '../../identity/caller';
import { RESOURCE_ID_PATTERN } from '../visibility-query';
import { IsPositiveIsoDuration } from './iso-duration.validator';

export const MAX_JUSTIFICATION = 1000;
export const MAX_TICKET = 100;
export const MAX_COMMENT = 1000;

export class CreateRequestDto {
  @ApiProperty({ example: 'prod-db', description: 'Id of a resource from GET /v1/resources.' })
  @IsString()
  @Matches(RESOURCE_ID_PATTERN, { message: 'resourceId must be a resource id such as prod-db' })
  resourceId!: string;

  @ApiPropertyOptional({
    example: 'PT2H',
    description: "ISO 8601 duration of access, counted from the grant; the flow's default when absent.",
  })
  @IsOptional()
  @IsPositiveIsoDuration()
  duration?: string;

  @ApiPropertyOptional({ example: 'Investigating INC-4211: slow queries on orders', maxLength: MAX_JUSTIFICATION })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_JUSTIFICATION)
  justification?: string;

  @ApiPropertyOptional({ example: 'INC-4211', maxLength: MAX_TICKET })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TICKET)
  ticket?: string;

  @ApiPropertyOptional({
    example: false,
    description:
      "Break-glass: access at once, where the flow offers it (its `breakGlass`), to be ratified by the flow's ratifiers in time or ended. A justification is required.",
  })
  @IsOptional()
  @IsBoolean()
  breakGlass?: boolean;

  @ApiPropertyOptional({
    example: '2026-12-01T22:00:00Z',
    description:
      'Scheduled access: an ISO 8601 instant, at most 30 days ahead, when access starts. Approved ahead, granted then (the duration counts from it) only if the policy, evaluated again then, still allows it; cancellable until then.',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'startAt must be an ISO 8601 instant such as 2026-12-01T22:00:00Z' })
  @Matches(/(Z|[+-]\d{2}:\d{2})$/, { message: 'startAt must say its time zone (Z or +01:00)' })
  startAt?: string;
}

export class DecisionDto {
  @ApiPropertyOptional({ example: 'OK for the incident window', maxLength: MAX_COMMENT })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_COMMENT)
  comment?: string;
}

export class EndRequestDto {
  @ApiPropertyOptional({ example: 'Done with the incident', maxLength: MAX_COMMENT })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_COMMENT)
  reason?: string;
}

export class ExtendRequestDto {
  @ApiProperty({ example: 'PT1H', description: 'ISO 8601 duration to add to the current end of access.' })
  @IsPositiveIsoDuration()
  duration!: string;

  @ApiPropertyOptional({ maxLength: MAX_JUSTIFICATION })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_JUSTIFICATION)
  justification?: string;
}

/** `true`/`false` in a query string become booleans; anything else stays and fails validation. */
const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListRequestsQueryDto {
  @ApiPropertyOptional({ enum: REQUEST_STATUSES })
  @IsOptional()
  @IsIn(REQUEST_STATUSES)
  status?: RequestStatus;

  @ApiPropertyOptional({ example: 'prod-db' })
  @IsOptional()
  @IsString()
  @Matches(RESOURCE_ID_PATTERN, { message: 'resourceId must be a resource id such as prod-db' })
  resourceId?: string;

  @ApiPropertyOptional({ example: 'alice', description: "Requester's subject id." })
  @IsOptional()
  @IsString()
  @Matches(CALLER_ID_PATTERN, { message: 'requester must be a subject id' })
  requester?: string;

  @ApiPropertyOptional({ description: 'Only requests I made.' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  mine?: boolean;

  @ApiPropertyOptional({ description: 'Only requests waiting for my approval now.' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  pendingMyApproval?: boolean;

  @ApiPropertyOptional({ description: 'Only requests I approved, rejected, ratified or refused.' })
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  decidedByMe?: boolean;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only requests made at or after this instant.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'requestedAfter must be an ISO 8601 instant such as 2026-12-01T22:00:00Z' })
  @Matches(/(Z|[+-]\d{2}:\d{2})$/, { message: 'requestedAfter must say its time zone (Z or +01:00)' })
  requestedAfter?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Only requests made before this instant.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'requestedBefore must be an ISO 8601 instant such as 2026-12-01T22:00:00Z' })
  @Matches(/(Z|[+-]\d{2}:\d{2})$/, { message: 'requestedBefore must say its time zone (Z or +01:00)' })
  requestedBefore?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  pageSize?: number;

  @ApiPropertyOptional({ description: 'nextPageToken of the previous page.' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,4096}$/, { message: 'pageToken must be a token returned by a previous page' })
  pageToken?: string;
}
