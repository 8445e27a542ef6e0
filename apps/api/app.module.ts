import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { LatchkeyConfig } from '../../config/config';
import type { LoadedPolicy } from '../../policy';
import { AdminController } from './admin/admin.controller';
import { DocsController } from './docs/docs.controller';
import { OpenApiDocument } from './docs/openapi-document';
import { AllExceptionsFilter } from './errors/all-exceptions.filter';
import { createValidationPipe } from './errors/validation';
import { HealthController } from './health/health.controller';
import { AuthGuard } from './identity/auth.guard';
import { MeController } from './identity/me.controller';
import { Authenticator } from './identity/authenticator';
import { ApiMetrics } from './metrics/api-metrics';
import { MetricsController } from './metrics/metrics.controller';
import { PageTokens } from './requests/page-token';
import { RequestsController } from './requests/requests.controller';
import { RequestsService } from './requests/requests.service';
import { CommandSigner } from '../../trust/command-signer';
import { CatalogService } from './resources/catalog.service';
import { ResourcesController } from './resources/resources.controller';
import { API_CONFIG, API_LOGGER, POLICY, TEMPORAL_CLIENT } from './tokens';

export interface ApiModuleDeps {
  config: LatchkeyConfig;
  temporal: Client;
  policy: LoadedPolicy;
  logger: Logger;
  authenticator: Authenticator;
  metrics: ApiMetrics;
  openApi: OpenApiDocument;
  pageTokens: PageTokens;
  commandSigner: CommandSigner;
}

/** The whole API as one module, built from what the process (or a test) already made. */
@Module({})
export class ApiModule {
  static forRoot(deps: ApiModuleDeps): DynamicModule {
    return {
      module: ApiModule,
      controllers: [
        AdminController,
        DocsController,
        HealthController,
        MetricsController,
        MeController,
        ResourcesController,
        RequestsController,
      ],
      providers: [
        { provide: API_CONFIG, useValue: deps.config },
        { provide: TEMPORAL_CLIENT, useValue: deps.temporal },
        { provide: POLICY, useValue: deps.policy },
        { provide: API_LOGGER, useValue: deps.logger },
        { provide: Authenticator, useValue: deps.authenticator },
        { provide: ApiMetrics, useValue: deps.metrics },
        { provide: OpenApiDocument, useValue: deps.openApi },
        { provide: PageTokens, useValue: deps.pageTokens },
        { provide: CommandSigner, useValue: deps.commandSigner },
        CatalogService,
        RequestsService,
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useFactory: (logger: Logger) => new AllExceptionsFilter(logger), inject: [API_LOGGER] },
      ],
    };
  }
}
