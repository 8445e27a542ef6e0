import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { LatchkeyConfig } from '../../../config/config';
import type { AccessRequestState, GrantAccess } from '../../../contracts/request';
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
import {
  AuditTimelineDto,
  ErrorResponseDto,
  GrantAccessDto,
  RequestPageDto,
  RequestStateDto,
} from './dto/request-view.dto';
import { IDEMPOTENCY_KEY_PATTERN } from './request-id';
import { RequestIdPipe } from './request-id.pipe';
import type { RequestPage } from '../../../contracts/request';
import { RequestsService } from './requests.service';

const errors = [
  ApiResponse({ status: 400, description: 'Malformed input.', type: ErrorResponseDto }),
  ApiResponse({ status: 401, description: 'No valid bearer token.', type: ErrorResponseDto }),
  ApiResponse({ status: 403, description: 'Not allowed for this caller.', type: ErrorResponseDto }),
  ApiResponse({ status: 404, description: 'No such request.', type: ErrorResponseDto }),
];

function applyAll(...decorators: MethodDecorator[]): MethodDecorator {
  return (target, key, descriptor) => {
    for (const decorator of decorators) decorator(target, key, descriptor);
  };
}

@ApiTags('requests')
@ApiBearerAuth()
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
  })
  @ApiCreatedResponse({ type: RequestStateDto, description: 'The new request; Location points at it.' })
  @ApiOkResponse({ type: RequestStateDto, description: 'The request an earlier call with this Idempotency-Key made.' })
  @ApiResponse({ status: 413, description: 'Body too large.', type: ErrorResponseDto })
  @ApiResponse({
    status: 422,
    description: 'Refused by policy (duration, justification, ...).',
    type: ErrorResponseDto,
  })
  @ApiResponse({
    status: 429,
    description: 'open-request-limit: the requester already has as many open requests as the policy allows.',
    type: ErrorResponseDto,
  })
  @applyAll(...errors)
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
  @applyAll(...errors)
  list(@CurrentCaller() caller: Caller, @Query() query: ListRequestsQueryDto): Promise<RequestPage> {
    return this.requests.list(caller, query);
  }

  @Get(':id')
  @ApiOperation({ summary: "One request's state" })
  @ApiOkResponse({ type: RequestStateDto })
  @applyAll(...errors)
  get(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string): Promise<AccessRequestState> {
    return this.requests.get(caller, id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOperation({ summary: 'Approve a pending request (or a pending extension)' })
  @ApiOkResponse({ type: RequestStateDto })
  @ApiResponse({ status: 409, description: 'The state no longer allows it.', type: ErrorResponseDto })
  @ApiResponse({
    status: 422,
    description: 'The extension needs a share link the account policy refuses.',
    type: ErrorResponseDto,
  })
  @ApiResponse({
    status: 502,
    description:
      '1Password could not make the new share link an extension past the current one needs; nothing changed.',
    type: ErrorResponseDto,
  })
  @applyAll(...errors)
  approve(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: DecisionDto) {
    return this.requests.change(caller, id, 'approve', body);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a pending request' })
  @ApiOkResponse({ type: RequestStateDto })
  @ApiResponse({ status: 409, description: 'The state no longer allows it.', type: ErrorResponseDto })
  @applyAll(...errors)
  reject(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: DecisionDto) {
    return this.requests.change(caller, id, 'reject', body);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a pending request (requester)' })
  @ApiOkResponse({ type: RequestStateDto })
  @ApiResponse({ status: 409, description: 'The state no longer allows it.', type: ErrorResponseDto })
  @applyAll(...errors)
  cancel(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: EndRequestDto) {
    return this.requests.change(caller, id, 'cancel', body);
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a grant early (requester, approver, or admin)' })
  @ApiOkResponse({ type: RequestStateDto })
  @ApiResponse({ status: 409, description: 'The state no longer allows it.', type: ErrorResponseDto })
  @applyAll(...errors)
  revoke(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: EndRequestDto) {
    return this.requests.change(caller, id, 'revoke', body);
  }

  @Post(':id/extend')
  @HttpCode(200)
  @ApiOperation({ summary: 'Ask for more time on an active grant' })
  @ApiOkResponse({ type: RequestStateDto })
  @ApiResponse({ status: 409, description: 'The state no longer allows it.', type: ErrorResponseDto })
  @ApiResponse({ status: 422, description: 'Beyond what the pinned flow allows.', type: ErrorResponseDto })
  @ApiResponse({
    status: 502,
    description:
      '1Password could not make the new share link an extension past the current one needs; nothing changed.',
    type: ErrorResponseDto,
  })
  @applyAll(...errors)
  extend(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string, @Body() body: ExtendRequestDto) {
    return this.requests.change(caller, id, 'extend', body);
  }

  @Get(':id/grant')
  @ApiOperation({ summary: 'How to reach the secret while access is active (requester only)' })
  @ApiOkResponse({ type: GrantAccessDto })
  @ApiResponse({ status: 409, description: 'Not granted yet.', type: ErrorResponseDto })
  @ApiResponse({ status: 410, description: 'The request has ended.', type: ErrorResponseDto })
  @applyAll(...errors)
  grant(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string): Promise<GrantAccess> {
    return this.requests.grant(caller, id);
  }

  @Get(':id/audit')
  @ApiOperation({ summary: 'Timeline of who did what, when and why, from the workflow history' })
  @ApiOkResponse({ type: AuditTimelineDto })
  @applyAll(...errors)
  audit(@CurrentCaller() caller: Caller, @Param('id', RequestIdPipe) id: string) {
    return this.requests.audit(caller, id);
  }
}
