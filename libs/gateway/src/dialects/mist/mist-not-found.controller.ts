import { All, Controller, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { MistErrorsFilter, mistNotFound } from './mist-errors.filter';
import { MIST_PREFIX } from './mist-query';
import { RequiresScope } from '@spindle/platform';

// A path under /v2/api that Mist does not have gets akka-http's default 404, as text like every
// other Mist error, rather than the native API's problem+json. More specific routes win.
@ApiExcludeController()
@UseFilters(MistErrorsFilter)
@RequiresScope('read')
@Controller(MIST_PREFIX)
export class MistNotFoundController {
  @All('*')
  unknown(): never {
    throw mistNotFound('The requested resource could not be found.');
  }
}
