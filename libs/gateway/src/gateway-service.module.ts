import { Module } from '@nestjs/common';
import { DIALECTS } from './dialects/dialects';
import { GatewayModule } from './gateway.module';

// What the gateway process serves: the native API and the dialects.
@Module({ imports: [GatewayModule, ...DIALECTS.map((d) => d.module)] })
export class GatewayServiceModule {}
