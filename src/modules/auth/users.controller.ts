import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBody, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Mutating } from '../../common/auth/mutating.js';
import { GridException } from '../../common/errors/grid.exception.js';
import { UsersService } from './users.service.js';

/** Bodies reach controllers as text (main.ts parses no JSON, so duplicate keys can be refused); a small object here. */
function jsonObject(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch {
    throw GridException.invalid('body', 'must be a JSON object {name, password, role}');
  }
}

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'Users and their roles (never a hash)' })
  @ApiOkResponse({ description: '{ users: [{ name, role: viewer|operator, source: api|file|env }] }' })
  list() {
    return { users: this.users.list() };
  }

  @Post()
  @HttpCode(201)
  @Mutating()
  @ApiOperation({ summary: 'Add a user', description: 'role `viewer` reads, `operator` also changes state. The password (12 characters at least) is stored only as an scrypt hash.' })
  @ApiBody({ schema: { type: 'object', required: ['name', 'password', 'role'], properties: { name: { type: 'string' }, password: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'operator'] } } } })
  @ApiBadRequestResponse({ description: 'a bad field, named' })
  @ApiConflictResponse({ description: 'the user exists' })
  async create(@Body() body: unknown) {
    return this.users.create(jsonObject(body));
  }

  @Delete(':name')
  @Mutating()
  @ApiOperation({ summary: 'Remove a user added through the API' })
  @ApiNotFoundResponse({ description: 'no such user' })
  @ApiConflictResponse({ description: 'the user comes from GRID_USERS_FILE or GRID_ADMIN_PASSWORD, or is the last operator while no API key exists' })
  async remove(@Param('name') name: string) {
    await this.users.remove(name);
    return { deleted: name };
  }
}
