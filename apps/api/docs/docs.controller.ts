import * as fs from 'node:fs';
import * as path from 'node:path';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { ApiExcludeController, type OpenAPIObject } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiError } from '../errors/api-error';
import { Public } from '../identity/decorators';
import { OpenApiDocument } from './openapi-document';

/** Swagger UI's files, from the copy that @nestjs/swagger itself depends on. */
const SWAGGER_UI_DIR = path.dirname(
  require.resolve('swagger-ui-dist/package.json', { paths: [path.dirname(require.resolve('@nestjs/swagger'))] }),
);
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>latchkey API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
  persistAuthorization: false,
});
`;

/**
 * The OpenAPI document as JSON and a browsable page. They describe the API and hold no data, so they
 * are open, declared so here like health and readiness.
 */
@ApiExcludeController()
@Controller()
export class DocsController {
  constructor(private readonly openApi: OpenApiDocument) {}

  @Public()
  @Get('openapi.json')
  document(): OpenAPIObject {
    return this.openApi.get();
  }

  @Public()
  @Get('docs')
  @Header('Content-Type', 'text/html; charset=utf-8')
  // Swagger UI's own files only; it styles inline and draws icons from data: URLs.
  @Header(
    'Content-Security-Policy',
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
  )
  page(): string {
    return PAGE;
  }

  @Public()
  @Get('docs/init.js')
  @Header('Content-Type', 'application/javascript; charset=utf-8')
  init(): string {
    return INIT;
  }

  @Public()
  @Get('docs/assets/:name')
  asset(@Param('name') name: string, @Res() reply: FastifyReply): void {
    // Only the named files, never a path from the URL.
    const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!type) throw ApiError.notFound('document');
    void reply
      .header('Content-Type', type)
      .header('Cache-Control', 'public, max-age=86400')
      .send(fs.createReadStream(path.join(SWAGGER_UI_DIR, name)));
  }
}
