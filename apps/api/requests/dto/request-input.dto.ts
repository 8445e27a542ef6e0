import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsISO8601, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { REQUEST_STATUSES, type RequestStatus } from '../../../../contracts/request';
import { Omittable } from '../../errors/validation';
import { INSTANT_PATTERN } from '../instant';
import { CALLER_ID_PATTERN } from '../../identity/caller';
import { RESOURCE_ID_PATTERN } from '../visibility-query';
import { IsPositiveIsoDuration, POSITIVE_DURATION_SCHEMA } from './iso-duration.validator';

export const MAX_JUSTIFICATION = 1000;
export const MAX_TICKET = 100;
export const MAX_COMMENT = 1000;
export const PAGE_SIZE = { default: 20, max: 100 } as const;
/** A page token is sealed (page-token.ts) and URL-safe; this is only its alphabet and size. */
export const PAGE_TOKEN_PATTERN = /^[A-Za-z0-9_.-]{1,4096}$/;

export class CreateRequestDto {
  @ApiProperty({
    example: 'prod-db',
    description: 'Id of a resource from GET /v1/resources.',
    pattern: RESOURCE_ID_PATTERN.source,
  })
  @IsString()
  @Matches(RESOURCE_ID_PATTERN, { message: 'resourceId must be a resource id such as prod-db' })
  resourceId!: string;

  @ApiPropertyOptional({
    ...POSITIVE_DURATION_SCHEMA,
    example: 'PT2H',
    description: "ISO 8601 duration of access, counted from the grant; the flow's default when absent.",
  })
  @Omittable()
  @IsPositiveIsoDuration()
  duration?: string;

  @ApiPropertyOptional({ example: 'Investigating INC-4211: slow queries on orders', maxLength: MAX_JUSTIFICATION })
  @Omittable()
  @IsString()
  @MaxLength(MAX_JUSTIFICATION)
  justification?: string;

  @ApiPropertyOptional({ example: 'INC-4211', minLength: 1, maxLength: MAX_TICKET })
  @Omittable()
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_TICKET)
  ticket?: string;

  @ApiPropertyOptional({
    example: false,
    description:
      "Break-glass: access at once, where the flow offers it (its `breakGlass`), to be ratified by the flow's ratifiers in time or ended. A justification is required.",
  })
  @Omittable()
  @IsBoolean()
  breakGlass?: boolean;

  @ApiPropertyOptional({
    example: '2026-12-01T22:00:00Z',
    description:
      'Scheduled access: an RFC 3339 instant with its time zone, in the future and at most 30 days ahead (else 422), when access starts. Approved ahead, granted then (the duration counts from it) only if the policy, evaluated again then, still allows it; cancellable until then. Not with breakGlass (422).',
    format: 'date-time',
    pattern: INSTANT_PATTERN.source,
  })
  @Omittable()
  @IsString()
  @Matches(INSTANT_PATTERN, { message: 'startAt must be an instant with its time zone, such as 2026-12-01T22:00:00Z' })
  @IsISO8601({ strict: true }, { message: 'startAt must be a date that exists' })
  startAt?: string;
}

export class DecisionDto {
  @ApiPropertyOptional({ example: 'OK for the incident window', maxLength: MAX_COMMENT })
  @Omittable()
  @IsString()
  @MaxLength(MAX_COMMENT)
  comment?: string;
}

export class EndRequestDto {
  @ApiPropertyOptional({ example: 'Done with the incident', maxLength: MAX_COMMENT })
  @Omittable()
  @IsString()
  @MaxLength(MAX_COMMENT)
  reason?: string;
}

export class ExtendRequestDto {
  @ApiProperty({
    ...POSITIVE_DURATION_SCHEMA,
    example: 'PT1H',
    description: 'ISO 8601 duration to add to the current end of access.',
  })
  @IsPositiveIsoDuration()
  duration!: string;

  @ApiPropertyOptional({ maxLength: MAX_JUSTIFICATION })
  @Omittable()
  @IsString()
  @MaxLength(MAX_JUSTIFICATION)
  justification?: string;
}

/** `true`/`false` in a query string become booleans; anything else stays and fails validation. */
const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListRequestsQueryDto {
  @ApiPropertyOptional({ enum: REQUEST_STATUSES })
  @Omittable()
  @IsIn(REQUEST_STATUSES)
  status?: RequestStatus;

  @ApiPropertyOptional({ example: 'prod-db', pattern: RESOURCE_ID_PATTERN.source })
  @Omittable()
  @IsString()
  @Matches(RESOURCE_ID_PATTERN, { message: 'resourceId must be a resource id such as prod-db' })
  resourceId?: string;

  @ApiPropertyOptional({ example: 'alice', description: "Requester's subject id.", pattern: CALLER_ID_PATTERN.source })
  @Omittable()
  @IsString()
  @Matches(CALLER_ID_PATTERN, { message: 'requester must be a subject id' })
  requester?: string;

  @ApiPropertyOptional({ description: 'Only requests I made.' })
  @Omittable()
  @Transform(toBoolean)
  @IsBoolean()
  mine?: boolean;

  @ApiPropertyOptional({ description: 'Only requests waiting for my approval now.' })
  @Omittable()
  @Transform(toBoolean)
  @IsBoolean()
  pendingMyApproval?: boolean;

  @ApiPropertyOptional({ description: 'Only requests I approved, rejected, ratified or refused.' })
  @Omittable()
  @Transform(toBoolean)
  @IsBoolean()
  decidedByMe?: boolean;

  @ApiPropertyOptional({
    description: 'Only requests made at or after this instant (RFC 3339, with its time zone).',
    format: 'date-time',
    pattern: INSTANT_PATTERN.source,
  })
  @Omittable()
  @IsString()
  @Matches(INSTANT_PATTERN, {
    message: 'requestedAfter must be an instant with its time zone, such as 2026-12-01T22:00:00Z',
  })
  @IsISO8601({ strict: true }, { message: 'requestedAfter must be a date that exists' })
  requestedAfter?: string;

  @ApiPropertyOptional({
    description: 'Only requests made before this instant (RFC 3339, with its time zone).',
    format: 'date-time',
    pattern: INSTANT_PATTERN.source,
  })
  @Omittable()
  @IsString()
  @Matches(INSTANT_PATTERN, {
    message: 'requestedBefore must be an instant with its time zone, such as 2026-12-01T22:00:00Z',
  })
  @IsISO8601({ strict: true }, { message: 'requestedBefore must be a date that exists' })
  requestedBefore?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: PAGE_SIZE.max, default: PAGE_SIZE.default })
  @Omittable()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(PAGE_SIZE.max)
  pageSize?: number;

  @ApiPropertyOptional({
    description: 'nextPageToken of the previous page; one this list did not give is refused with 422.',
    pattern: PAGE_TOKEN_PATTERN.source,
  })
  @Omittable()
  @IsString()
  @Matches(PAGE_TOKEN_PATTERN, { message: 'pageToken must be a token returned by a previous page' })
  pageToken?: string;
}
