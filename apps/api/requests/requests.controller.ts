import {
  applyDecorators,
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiLink,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { LatchkeyConfig } from '../../../config/config';
import type { AccessRequestState, GrantAccess } from '../../../contracts/request';
import { REQUEST_ID_PATTERN } from '../../../domain/ids';
import { ApiErrors, TEMPORAL_AWAY } from '../docs/error-responses';
import { ApiError } from '../errors/api-error';
import type { Caller } from '../identity/caller';
import { CurrentCaller } from '../identity/decorators';
import { API_CONFIG } from '../tokens';
import {
  CreateRequestDto,
  DecisionDto,
  EndRequestDto,
  ExtendRequestDto,
  ListRequestsQueryDto,
} from './dto/request-input.dto';
import { AuditTimelineDto, GrantAccessDto, RequestPageDto, RequestStateDto } from './dto/request-view.dto';
import { IDEMPOTENCY_KEY_PATTERN } from './request-id';
import { RequestIdPipe } from './request-id.pipe';
import type { RequestPage } from '../../../contracts/request';
import { RequestsService } from './requests.service';

/**
 * The `{id}` of a request's routes: RequestIdPipe refuses any other with 400. Every answer carrying a
 * request's state links to the route, with its requestId (an OpenAPI link, which clients and
 * schemathesis's stateful phase follow).
 */
const RequestIdParam = applyDecorators(
  ApiParam({
    name: 'id',
    schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source },
    example: 'req_01jq3v5m7k9p2r4t6w8y0a2c4e',
  }),
  ApiLink({ from: RequestStateDto, fromField: 'requestId', routeParam: 'id' }),
);

/** What every operation on one request may answer besides its own refusals. */
const oneRequestErrors = {
  403: 'Not allowed for this caller (the rule that refused is named).',
  404: 'No such request.',
};
const noLongerAllowed = 'The state no longer allows it.';
const newShareLinkFailed =
  '1Password could not make the new share link an extension past the current one needs; nothing changed.';

@ApiTags('requests')
@ApiBearerAuth()
@ApiErrors({ 503: TEMPORAL_AWAY })
@Controller('v1/requests')
export class RequestsController {
  constructor(
    private readonly requests: RequestsService,
    @Inject(API_CONFIG) private readonly config: LatchkeyConfig,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Ask for access to a resource' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retry-safe creation: the same key from the same caller returns the same request.',
    schema: { type: 'string', pattern: IDEMPOTENCY_KEY_PATTERN.source },
  })
  @ApiCreatedResponse({ type: RequestStateDto, description: 'The new request; Location points at it.' })
  @ApiOkResponse({ type: RequestStateDto, description: 'The request an earlier call with this Idempotency-Key made.' })
  @ApiErrors({
    403: 'not-eligible: the policy does not let the caller request this resource; email-not-verified: a share link needs a verified address.',
    409: 'idempotency-key-reused: this Idempotency-Key was already used by the caller for a different request.',
    422: 'Refused by policy (unknown resource, duration, justification, ticket, break-glass) or a startAt in the past or more than 30 days ahead; the rule is named.',
    429: 'open-request-limit or break-glass-limit: the requester already has as many as the policy allows; or too many requests.',
  })
  async create(
    @CurrentCaller() caller: Caller,
    @Body() body: CreateRequestDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AccessRequestState> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY_PATTERN.test(idempotencyKey)) {
      throw new ApiError(400, 'validation-failed', 'The Idempotency-Key header is malformed.', [
        { field: 'Idempotency-Key', problems: ['must be 8 to 128 letters, digits, or . _ : -'] },
      ]);
    }
    const { state, created } = await this.requests.create(caller, body, idempotencyKey);
    void reply
      .status(created ? 201 : 200)
      .header('Location', `${this.config.api.publicUrl}/v1/requests/${state.requestId}`);
    if (!created) void reply.header('Idempotent-Replayed', 'true');
    return state;
  }

  @Get()
  @ApiOperation({ summary: 'List requests the caller may see, newest first, paged' })
  @ApiOkResponse({ type: RequestPageDto })
  @ApiErrors({ 422: 'invalid-page-token: pageToken is not one this list gave.' })
  list(@CurrentCaller() caller: Caller, @Query() query: ListRequestsQueryDto): Promise<RequestPage> {
    return this.requests.list(caller, query);
  }

  @Get(':id')
  @ApiOperation({ summary: "One request's state" })
  @ApiOkResponse({ type: RequestStateDto })
  @RequestIdParam
  @ApiErrors(oneRequestErrors)
  get(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string): Promise<AccessRequestState> {
    return this.requests.get(caller, id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a pending request (or a pending extension)' })
  @ApiOkResponse({ type: RequestStateDto })
  @RequestIdParam
  @ApiErrors({
    ...oneRequestErrors,
    409: noLongerAllowed,
    422: 'The extension needs a share link the account policy refuses.',
    502: newShareLinkFailed,
  })
  approve(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: DecisionDto) {
    return this.requests.change(caller, id, 'approve', body);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a pending request' })
  @ApiOkResponse({ type: RequestStateDto })
  @RequestIdParam
  @ApiErrors({ ...oneRequestErrors, 409: noLongerAllowed })
  reject(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: DecisionDto) {
    return this.requests.change(caller, id, 'reject', body);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a pending request (requester)' })
  @ApiOkResponse({ type: RequestStateDto })
  @RequestIdParam
  @ApiErrors({ ...oneRequestErrors, 409: noLongerAllowed })
  cancel(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: EndRequestDto) {
    return this.requests.change(caller, id, 'cancel', body);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a grant early (requester, approver, or admin)' })
  @ApiOkResponse({ type: RequestStateDto })
  @RequestIdParam
  @ApiErrors({ ...oneRequestErrors, 409: noLongerAllowed })
  revoke(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: EndRequestDto) {
    return this.requests.change(caller, id, 'revoke', body);
  }

  @Post(':id/extend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ask for more time on an active grant' })
  @ApiOkResponse({ type: RequestStateDto })
  @RequestIdParam
  @ApiErrors({
    ...oneRequestErrors,
    409: noLongerAllowed,
    422: 'Beyond what the pinned flow allows.',
    502: newShareLinkFailed,
  })
  extend(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: ExtendRequestDto) {
    return this.requests.change(caller, id, 'extend', body);
  }

  @Get(':id/grant')
  @ApiOperation({ summary: 'How to reach the secret while access is active (requester only)' })
  @ApiOkResponse({ type: GrantAccessDto })
  @RequestIdParam
  @ApiErrors({ ...oneRequestErrors, 409: 'Not granted yet.', 410: 'The request has ended.' })
  grant(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string): Promise<GrantAccess> {
    return this.requests.grant(caller, id);
  }

  @Get(':id/audit')
  @ApiOperation({ summary: 'Timeline of who did what, when and why, from the workflow history' })
  @ApiOkResponse({ type: AuditTimelineDto })
  @RequestIdParam
  @ApiErrors(oneRequestErrors)
  audit(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string) {
    return this.requests.audit(caller, id);
  }
}
