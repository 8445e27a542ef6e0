import { Controller, Get, Inject, Param } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { type LoadedPolicy, type RequestableResource, requestableResources } from '../../../policy';
import { ApiErrors } from '../docs/error-responses';
import { ApiError } from '../errors/api-error';
import type { Caller } from '../identity/caller';
import { CurrentCaller } from '../identity/decorators';
import { RESOURCE_ID_PATTERN } from '../requests/visibility-query';
import { POLICY } from '../tokens';
import { CatalogService } from './catalog.service';

class BreakGlassOfferDto {
  @ApiProperty({ example: 'PT1H' }) maxDuration!: string;
  @ApiProperty({ example: 'PT30M', description: 'Ratified within this of the request, or access ends.' })
  ratifyWithin!: string;
  @ApiProperty({
    type: 'array',
    items: {
      type: 'object',
      properties: { kind: { type: 'string', enum: ['user', 'group'] }, id: { type: 'string' } },
    },
  })
  ratifiers!: Array<{ kind: string; id: string }>;
  @ApiProperty({ enum: ['end', 'end-and-rotate'] }) onNotRatified!: string;
}

class FlowDto {
  @ApiProperty() name!: string;
  @ApiProperty() automatic!: boolean;
  @ApiProperty({ example: 'PT8H' }) maxDuration!: string;
  @ApiProperty({ example: 'PT1H' }) defaultDuration!: string;
  @ApiProperty() justificationRequired!: boolean;
  @ApiProperty() ticketRequired!: boolean;
  @ApiProperty({
    description: 'Approvers per tier, resolved (resource owner or integration owners applied).',
    type: 'array',
    items: {
      type: 'array',
      items: {
        type: 'object',
        properties: { kind: { type: 'string', enum: ['user', 'group'] }, id: { type: 'string' } },
      },
    },
  })
  approvers!: Array<Array<{ kind: string; id: string }>>;
  @ApiPropertyOptional({ type: BreakGlassOfferDto, description: 'Present when the flow offers break-glass.' })
  breakGlass?: BreakGlassOfferDto;
}

class ReachDto {
  @ApiProperty({ description: "The requester's identity group this mapping applies to.", example: 'engineering' })
  identityGroup!: string;
  @ApiProperty({ description: 'The 1Password group that receives the permissions.' }) groupId!: string;
  @ApiPropertyOptional({ description: "The group's name in 1Password, when the catalog has described it." })
  title?: string;
  @ApiPropertyOptional({ description: "1Password's kind of group: teamMembers, userDefined, administrators, ..." })
  type?: string;
}

class ResourceDto {
  @ApiProperty({ example: 'prod-db' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: ['item', 'vault', 'database'] }) type!: string;
  @ApiProperty() integration!: string;
  @ApiProperty({ enum: ['share-link', 'rotate-on-revoke', 'vault-group', 'database-role'] }) grantMode!: string;
  @ApiProperty({ type: FlowDto }) flow!: FlowDto;
  @ApiPropertyOptional() accessDetails?: string;
  @ApiPropertyOptional({
    type: [ReachDto],
    description:
      'Vaults only: a grant gives the permissions to every member of the 1Password group mapped from your identity group, not only to you.',
  })
  reaches?: ReachDto[];
}

@ApiTags('resources')
@ApiBearerAuth()
@ApiErrors({ 503: 'The catalog has not been read from 1Password yet, or Temporal cannot be reached.' })
@Controller('v1/resources')
export class ResourcesController {
  constructor(
    private readonly catalog: CatalogService,
    @Inject(POLICY) private readonly policy: LoadedPolicy,
  ) {}

  @Get()
  @ApiOperation({ summary: 'What the caller may request, with the flow that would apply' })
  @ApiOkResponse({ type: [ResourceDto] })
  async list(@CurrentCaller() caller: Caller): Promise<RequestableResource[]> {
    return requestableResources(this.policy, await this.catalog.get(), caller.identity);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One requestable resource and its flow' })
  @ApiOkResponse({ type: ResourceDto })
  @ApiParam({ name: 'id', schema: { type: 'string', pattern: RESOURCE_ID_PATTERN.source }, example: 'prod-db' })
  @ApiErrors({ 404: 'Unknown, or not requestable by the caller.' })
  async get(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<RequestableResource> {
    const resources = requestableResources(this.policy, await this.catalog.get(), caller.identity);
    const resource = resources.find((candidate) => candidate.id === id);
    if (!resource) throw ApiError.notFound('resource you may request');
    return resource;
  }
}
