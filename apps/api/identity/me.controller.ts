import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ROLES, type Caller } from './caller';
import { CurrentCaller } from './decorators';

class MeDto {
  @ApiProperty({ example: 'alice' }) id!: string;
  @ApiProperty({ example: 'alice@example.com' }) email!: string;
  @ApiProperty({ example: ['engineering'] }) groups!: string[];
  @ApiProperty({ enum: ROLES, isArray: true }) roles!: string[];
}

@ApiTags('identity')
@ApiBearerAuth()
@Controller('v1/me')
export class MeController {
  @Get()
  @ApiOperation({ summary: 'Who the bearer token says the caller is' })
  @ApiOkResponse({ type: MeDto })
  me(@CurrentCaller() caller: Caller): MeDto {
    return { ...caller.identity, roles: caller.roles };
  }
}
