import { All, Controller, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { IlumErrorsFilter, ilumNotFound } from './ilum-errors.filter';
import { ILUM_PREFIX } from './ilum-prefix';
import { RequiresScope } from '@spindle/platform';

// A path under /api/v1 that is not built (groups, jobs, ...) answers in Ilum's shape, not the native
// API's problem+json. More specific routes win.
@ApiExcludeController()
@UseFilters(IlumErrorsFilter)
@RequiresScope('read')
@Controller(ILUM_PREFIX)
export class IlumNotFoundController {
  @All('*')
  unknown(): never {
    throw ilumNotFound('no such route in the Ilum API served by Spindle');
  }
}
