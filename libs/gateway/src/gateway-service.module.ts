import { Module } from '@nestjs/common';
import { MistDialectModule } from './dialects/mist/mist-dialect.module';
import { GatewayModule } from './gateway.module';

// What the gateway process serves: the native API and the dialects.
@Module({ imports: [GatewayModule, MistDialectModule] })
export class GatewayServiceModule {}
