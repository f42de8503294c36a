import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { SpindleConfig } from './spindle-config';

export const SPINDLE_CONFIG = Symbol('SPINDLE_CONFIG');

// The resolved configuration is built once by the entry point and shared by every module.
@Global()
@Module({})
export class SpindleConfigModule {
  static forRoot(config: SpindleConfig): DynamicModule {
    return {
      module: SpindleConfigModule,
      providers: [{ provide: SPINDLE_CONFIG, useValue: config }],
      exports: [SPINDLE_CONFIG],
    };
  }
}
