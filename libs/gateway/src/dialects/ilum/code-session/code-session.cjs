'use strict';
// Spindle: the interpreter of a NODE CODE group's requests ({type: 'interactive_code_execute',
// code}). Uploaded as the group's program and run by the worker's warm node runner, which loads a
// program once per process: this module's context is the worker's session, so what one request
// declares (var, let, const, function) the next one on the same worker sees. The answer is the
// completion value of the code (awaited when it is a promise), as util.inspect shows it; "" for
// undefined. `spark` is null: there is no Spark runtime.
const vm = require('node:vm');
const { inspect } = require('node:util');

const session = vm.createContext({
  console,
  require,
  process,
  Buffer,
  URL,
  TextEncoder,
  TextDecoder,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  spark: null,
});

exports.execute = async ({ code }) => {
  // displayErrors: false keeps the source line out of the stack, so the error comes first in it.
  let value = vm.runInContext(code, session, { filename: '<code>', displayErrors: false });
  // A promise of the session's realm is not an instance of this one's Promise.
  if (value !== null && typeof value === 'object' && typeof value.then === 'function') value = await value;
  return value === undefined ? '' : inspect(value);
};
