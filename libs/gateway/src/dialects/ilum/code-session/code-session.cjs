'use strict';
// Spindle: the interpreter of a NODE CODE group's requests ({type: 'interactive_code_execute',
// code}). Uploaded as the group's program and run by the worker's warm node runner, which loads a
// program once per process: this module's context is the worker's session, so what one request
// declares (var, let, const, function) the next one on the same worker sees. The answer is the
// completion value of the code (awaited when it is a promise), as util.inspect shows it; "" for
// undefined. `spark` is null: there is no Spark runtime.
// With a cursor ({type: 'interactive_code_complete', code, cursor}) it answers the completions of
// the dotted word before the cursor: the properties (own and inherited) of what the word's head
// names in the session, `rows.length`, `Math.max`; for a word without a dot, the session's globals,
// the names of its top-level let, const and class declarations, and JavaScript's keywords.
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

// Names that a top-level let, const or class declared: they are not properties of the global.
const lexical = new Set();
const DECLARED = /(?:^|[;\n])\s*(?:let|const|class)\s+([A-Za-z_$][\w$]*)/g;
const KEYWORDS = (
  'await break case catch class const continue debugger default delete do else export extends ' +
  'false finally for function if import in instanceof let new null return super switch this throw true try ' +
  'typeof undefined var void while with yield'
).split(' ');

exports.execute = async ({ code, cursor }) => {
  if (cursor !== undefined && cursor !== null) return complete(code, cursor);
  // displayErrors: false keeps the source line out of the stack, so the error comes first in it.
  let value = vm.runInContext(code, session, { filename: '<code>', displayErrors: false });
  for (const [, name] of code.matchAll(DECLARED)) lexical.add(name);
  // A promise of the session's realm is not an instance of this one's Promise.
  if (value !== null && typeof value === 'object' && typeof value.then === 'function') value = await value;
  return value === undefined ? '' : inspect(value);
};

function complete(code, cursor) {
  const word = /[\w$.]*$/.exec(code.slice(0, cursor))[0];
  if (word === '' || /^[\d.]/.test(word)) return [];
  const dot = word.lastIndexOf('.');
  const prefix = word.slice(dot + 1);
  let names;
  if (dot < 0) names = [...propertiesOf(vm.runInContext('globalThis', session)), ...lexical, ...KEYWORDS];
  else {
    const head = word.slice(0, dot);
    if (!/^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/.test(head)) return [];
    let value;
    try {
      value = vm.runInContext(head, session, { displayErrors: false });
    } catch {
      return []; // names nothing (yet)
    }
    if (value === null || value === undefined) return [];
    names = propertiesOf(Object(value)).map((name) => `${head}.${name}`);
  }
  const start = dot < 0 ? '' : `${word.slice(0, dot)}.`;
  return [...new Set(names)].filter((name) => name.startsWith(start + prefix)).sort();
}

// Own and inherited property names that are identifiers.
function propertiesOf(object) {
  const names = [];
  for (let o = object; o !== null && o !== undefined; o = Object.getPrototypeOf(o))
    for (const name of Object.getOwnPropertyNames(o)) if (/^[A-Za-z_$][\w$]*$/.test(name)) names.push(name);
  return names;
}
