import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { REQUEST_STATUSES, type RequestStatus } from '../../../../contracts/request';

/**
 * Response shapes, described for the OpenAPI document. The bodies themselves are the workflow's own
 * state and grant objects (contracts/request.ts), returned as they are.
 */
const GRANT_MODES = ['share-link', 'vault-group', 'rotate-on-revoke', 'database-role'];

export class ApprovalRecordDto {
  @ApiProperty() approverId!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional() comment?: string;
  @ApiProperty({ description: 'Tier (0-based) whose right the approver used.' }) tier!: number;
}

export class DecisionRecordDto {
  @ApiProperty() by!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiPropertyOptional() comment?: string;
}

export class ExtensionRecordDto {
  @ApiProperty() by!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() addedMs!: number;
  @ApiPropertyOptional() justification?: string;
  @ApiProperty({ format: 'date-time' }) newEndsAt!: string;
  @ApiPropertyOptional({
    format: 'date-time',
    description:
      'Share links only: the expiry of the new link this extension made, because the link before expired before ' +
      'newEndsAt (the grant query hands out the new one). Absent when the link before covered it.',
  })
  linkExpiresAt?: string;
}

export class GrantGuaranteeDto {
  @ApiProperty({ enum: GRANT_MODES }) mode!: string;
  @ApiProperty({ example: 'viewable once, by this e-mail, until 2026-11-28T10:00:00Z' }) statement!: string;
}

export class GrantViewDto {
  @ApiProperty({ format: 'date-time' }) grantedAt!: string;
  @ApiProperty({ format: 'date-time' }) endsAt!: string;
  @ApiPropertyOptional({
    format: 'date-time',
    description: "When 1Password stops honouring the grant: the latest share link's expiry bucket.",
  })
  providerExpiresAt?: string;
  @ApiProperty({ type: GrantGuaranteeDto }) guarantee!: GrantGuaranteeDto;
  @ApiPropertyOptional({
    description:
      'Share links only: calls to create the link whose answer was lost, and an extension link made after ' +
      'access ended; each may have made a link nobody received (same recipient, expiring before ' +
      'providerExpiresAt, or at the end the extension asked for). Absent when none.',
    minimum: 1,
  })
  unreceivedLinks?: number;
  @ApiPropertyOptional({ format: 'date-time' }) revokedAt?: string;
}

export class FailureDto {
  @ApiProperty() code!: string;
  @ApiProperty() message!: string;
}

export class BreakGlassDto {
  @ApiProperty({ format: 'date-time', description: 'Ratified by then, or access ends then.' }) ratifyBy!: string;
  @ApiPropertyOptional({ type: DecisionRecordDto, description: 'A ratifier approved it: access lasts to its end.' })
  ratification?: DecisionRecordDto;
  @ApiPropertyOptional({
    type: DecisionRecordDto,
    description: 'Not ratified: refused by a ratifier, or `system:break-glass-not-ratified` at the deadline.',
  })
  refusal?: DecisionRecordDto;
}

export class PendingExtensionDto {
  @ApiProperty() requestedBy!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ type: 'integer' }) addedMs!: number;
  @ApiProperty({ type: [ApprovalRecordDto], description: 'Approvals of the extension so far.' })
  approvals!: ApprovalRecordDto[];
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Approved; since then latchkey makes the new share link (or login end) it needs. No decision applies.',
  })
  makingLinkSince?: string;
}

export class EndingDto {
  @ApiProperty({ format: 'date-time', description: 'Since when latchkey has been ending access.' }) since!: string;
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'When admins were alerted that ending takes longer than the flow allows (the attempts go on).',
  })
  alertedAt?: string;
}

export class RequestStateDto {
  @ApiProperty({ example: 'req_01jdx3m8q2v7k9t4w6y8z0abcd' }) requestId!: string;
  @ApiProperty({ enum: REQUEST_STATUSES }) status!: RequestStatus;
  @ApiProperty() requesterId!: string;
  @ApiProperty() resourceId!: string;
  @ApiProperty() integration!: string;
  @ApiProperty() flowName!: string;
  @ApiProperty() policyVersion!: string;
  @ApiProperty() justification!: string;
  @ApiPropertyOptional() ticket?: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty() durationMs!: number;
  @ApiPropertyOptional({ format: 'date-time' }) pendingDeadline?: string;
  @ApiProperty() currentTier!: number;
  @ApiProperty() approvalsRequired!: number;
  @ApiProperty({ type: [ApprovalRecordDto] }) approvals!: ApprovalRecordDto[];
  @ApiPropertyOptional({ type: DecisionRecordDto }) rejection?: DecisionRecordDto;
  @ApiPropertyOptional({ type: DecisionRecordDto }) cancellation?: DecisionRecordDto;
  @ApiPropertyOptional({ type: DecisionRecordDto }) revocation?: DecisionRecordDto;
  @ApiProperty({ type: [ExtensionRecordDto] }) extensions!: ExtensionRecordDto[];
  @ApiPropertyOptional({
    type: PendingExtensionDto,
    description: 'An extension not in effect yet: waiting for approval, or approved and being applied.',
  })
  pendingExtension?: PendingExtensionDto;
  @ApiPropertyOptional({ type: GrantViewDto }) grant?: GrantViewDto;
  @ApiPropertyOptional({ type: FailureDto }) failure?: FailureDto;
  @ApiPropertyOptional({ format: 'date-time', description: 'Scheduled requests only: when access starts.' })
  scheduledStart?: string;
  @ApiPropertyOptional({ type: BreakGlassDto, description: 'Break-glass requests only.' }) breakGlass?: BreakGlassDto;
  @ApiPropertyOptional({ type: EndingDto, description: 'While ENDING.' }) ending?: EndingDto;
  @ApiPropertyOptional() revokeAttempts?: number;
  @ApiPropertyOptional({ description: 'Requests started before 0.2: revoke attempts reached the alert threshold.' })
  revokeAlerted?: boolean;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class GrantAccessDto {
  @ApiProperty({ enum: GRANT_MODES }) mode!: string;
  @ApiPropertyOptional({ description: 'The share link (a secret: for the requester only).' }) shareUrl?: string;
  @ApiPropertyOptional() vaultId?: string;
  @ApiPropertyOptional({
    description: "Database-role grants: the login's role name; its password is in the item the share link opens.",
  })
  databaseRole?: string;
  @ApiPropertyOptional() accessDetails?: string;
  @ApiProperty({ format: 'date-time' }) endsAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) providerExpiresAt?: string;
  @ApiProperty({ type: GrantGuaranteeDto }) guarantee!: GrantGuaranteeDto;
}

export class RequestSummaryDto {
  @ApiProperty() requestId!: string;
  @ApiPropertyOptional({ enum: REQUEST_STATUSES }) status?: RequestStatus;
  @ApiPropertyOptional() requesterId?: string;
  @ApiPropertyOptional() resourceId?: string;
  @ApiPropertyOptional() integration?: string;
  @ApiPropertyOptional({ format: 'date-time' }) grantEndsAt?: string;
  @ApiPropertyOptional({
    enum: ['awaiting-ratification', 'ratified', 'not-ratified'],
    description: 'Break-glass requests only.',
  })
  breakGlass?: string;
  @ApiPropertyOptional({ format: 'date-time' }) startedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) closedAt?: string;
}

export class RequestPageDto {
  @ApiProperty({ type: [RequestSummaryDto] }) items!: RequestSummaryDto[];
  @ApiPropertyOptional({ description: 'Pass as pageToken to get the next page; absent on the last page.' })
  nextPageToken?: string;
}

export class AuditEntryDto {
  @ApiProperty() eventId!: number;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ example: 'approved' }) kind!: string;
  @ApiPropertyOptional({ description: 'Subject id of whoever did it; absent for latchkey itself.' }) actor?: string;
  @ApiProperty({ example: 'bob approved: OK for the incident window' }) summary!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true }) details?: Record<string, unknown>;
}

export class AuditTimelineDto {
  @ApiProperty() requestId!: string;
  @ApiProperty() workflowId!: string;
  @ApiProperty() runId!: string;
  @ApiProperty({ type: [AuditEntryDto] }) entries!: AuditEntryDto[];
}

export class ErrorDetailDto {
  @ApiProperty({ example: 'not-found' }) code!: string;
  @ApiProperty() message!: string;
  @ApiPropertyOptional({
    description:
      'What exactly was wrong: one entry per invalid field ({ field, problems }), or for a policy refusal { rule }.',
    oneOf: [
      {
        type: 'array',
        items: {
          type: 'object',
          properties: { field: { type: 'string' }, problems: { type: 'array', items: { type: 'string' } } },
        },
      },
      { type: 'object', properties: { rule: { type: 'string' } } },
    ],
  })
  details?: Array<{ field: string; problems: string[] }> | { rule: string };
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetailDto }) error!: ErrorDetailDto;
}
