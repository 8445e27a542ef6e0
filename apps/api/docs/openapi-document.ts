import type { INestApplication } from '@nestjs/common';
import {
  DocumentBuilder,
  getSchemaPath,
  type OpenAPIObject,
  type OperationObject,
  type ReferenceObject,
  type SchemaObject,
  SwaggerModule,
} from '@nestjs/swagger';
import { ErrorResponseDto } from '../requests/dto/request-view.dto';

/** Holds the OpenAPI document, generated from the controllers and DTOs once the app exists. */
export class OpenApiDocument {
  private document?: OpenAPIObject;

  generate(app: INestApplication, publicUrl: string): void {
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('latchkey')
        .setDescription(
          'Just-in-time access to secrets kept in 1Password, approved by people and recorded in Temporal. ' +
            'Every route but health, readiness and these docs needs a bearer token. ' +
            'A 400 means the request does not match this document; a 422, that it does but a rule no schema ' +
            'can state refused it (policy, time, a page token this API did not give). ' +
            'A method a path does not list is answered 405 with an Allow header.',
        )
        .setVersion('1')
        .addServer(publicUrl)
        .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
        .build(),
    );
    closeRequestBodies(document);
    declareAnswersOfEveryRoute(document);
    this.document = document;
  }

  get(): OpenAPIObject {
    if (!this.document) throw new Error('the OpenAPI document is generated when the app is created');
    return this.document;
  }
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

function operationsOf(document: OpenAPIObject): OperationObject[] {
  return Object.values(document.paths).flatMap((path) =>
    METHODS.map((method) => path[method]).filter((operation): operation is OperationObject => !!operation),
  );
}

/**
 * The global validation pipe refuses unknown fields (errors/validation.ts: forbidNonWhitelisted), so every
 * request body's schema says `additionalProperties: false`.
 */
function closeRequestBodies(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  const refsIn = (schema: SchemaObject | ReferenceObject | undefined): string[] => {
    if (!schema) return [];
    if ('$ref' in schema) return [schema.$ref];
    return (schema.allOf ?? []).flatMap(refsIn);
  };
  for (const operation of operationsOf(document)) {
    const body = operation.requestBody;
    if (!body || '$ref' in body) continue;
    for (const media of Object.values(body.content ?? {})) {
      for (const ref of refsIn(media.schema)) {
        const schema = schemas[ref.slice(ref.lastIndexOf('/') + 1)];
        if (schema && !('$ref' in schema)) schema.additionalProperties = false;
      }
    }
  }
}

/**
 * Answers that come from layers every route passes through rather than from its handler: the guard
 * (401 without a valid token), the body parser and validation pipe (400, 413, 415), the rate limit (429,
 * on every route when configured). Declared here once, so no operation can miss them.
 */
function declareAnswersOfEveryRoute(document: OpenAPIObject): void {
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } },
  });
  for (const operation of operationsOf(document)) {
    const answers: Record<string, ReturnType<typeof error>> = {};
    if ((operation.security ?? document.security ?? []).length > 0) {
      answers['401'] = error('No valid bearer token.');
    }
    if (operation.requestBody) {
      answers['400'] = error('The request does not match this document (malformed JSON, a field, a parameter).');
      answers['413'] = error('The body is larger than this API accepts.');
      answers['415'] = error('The body is not application/json.');
    } else if ((operation.parameters ?? []).length > 0) {
      answers['400'] = error('A parameter does not match this document.');
    }
    answers['429'] = error('Too many requests from this caller or address; Retry-After says when to try again.');
    for (const [status, answer] of Object.entries(answers)) operation.responses[status] ??= answer;
  }
}
