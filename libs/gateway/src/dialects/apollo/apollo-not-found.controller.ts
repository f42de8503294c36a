import { RequiresScope } from '@spindle/platform';
import { All, Controller, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { APOLLO_PREFIX } from './apollo-format';
import { ApolloErrorsFilter, apolloError } from './apollo-errors.filter';

// A path under /api/v1 that Spindle's Apollo does not offer: text/plain 404, as go-chi answers.
// More specific routes win.
@ApiExcludeController()
@UseFilters(ApolloErrorsFilter)
@RequiresScope('read')
@Controller(APOLLO_PREFIX)
export class ApolloNotFoundController {
  @All('*')
  unknown(): never {
    throw apolloError(404, '404 page not found');
  }
}
