import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/**
 * The OpenAPI document is generated from the controllers and DTOs, served as JSON at /openapi.json
 * and as a browsable page at /docs. Both describe the API only (no data), so they are open.
 */
export function mountOpenApi(app: INestApplication, publicUrl: string): void {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('latchkey')
      .setDescription('Just-in-time access to secrets kept in 1Password, approved by people and recorded in Temporal.')
      .setVersion('1')
      .addServer(publicUrl)
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
}
