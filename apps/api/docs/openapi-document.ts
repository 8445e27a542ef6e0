import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** Holds the OpenAPI document, generated from the controllers and DTOs once the app exists. */
export class OpenApiDocument {
  private document?: OpenAPIObject;

  generate(app: INestApplication, publicUrl: string): void {
    this.document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('latchkey')
        .setDescription(
          'Just-in-time access to secrets kept in 1Password, approved by people and recorded in Temporal. ' +
            'Every route but health, readiness and these docs needs a bearer token.',
        )
        .setVersion('1')
        .addServer(publicUrl)
        .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
        .build(),
    );
  }

  get(): OpenAPIObject {
    if (!this.document) throw new Error('the OpenAPI document is generated when the app is created');
    return this.document;
  }
}
