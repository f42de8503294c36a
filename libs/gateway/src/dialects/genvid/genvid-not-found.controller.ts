import { All, Controller, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { GENVID_PREFIX, GenvidErrorsFilter, genvidNotFound } from './genvid-errors.filter';
import { RequiresScope } from '@spindle/platform';

// A path under Genvid's prefixes that Spindle does not offer gets a JSON 404 like every other
// Genvid error, rather than the native API's problem+json. More specific routes win.
@ApiExcludeController()
@UseFilters(GenvidErrorsFilter)
@RequiresScope('read')
@Controller(GENVID_PREFIX)
export class GenvidNotFoundController {
  @All(['v1/*', 'secrets/*'])
  unknown(): never {
    throw genvidNotFound('not found');
  }
}
