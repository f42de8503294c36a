# Spindle: the interpreter of an Ilum CODE group's requests ({"type": "interactive_code_execute",
# "code": ...}). Uploaded as the group's program and run by the worker's warm python runner, which
# loads a program once per process: this module's namespace is the worker's session, so what one
# request defines the next one on the same worker sees. As Livy's statements, the answer is the
# value of the code's last statement when it is an expression (its repr; "" for None or for code
# that ends in a statement). There is no Spark runtime: `spark` is None.
# With a cursor ({"type": "interactive_code_complete", "code", "cursor"}) it answers the standard
# library's rlcompleter's completions of the dotted word before the cursor, against the session's
# namespace: ["os.path", "os.pathsep", ...] for "os.pa" (a callable's "(" or "()" and a keyword's ":" or
# " " left off). The code is not run for it, but its top-level imports above the cursor's line are
# imported, so that "import os\nos.pa" completes as it would once run.
import ast
import importlib
import re
import rlcompleter
import sys

_session = {"__name__": "__ilum_code__", "spark": None}
_WORD = re.compile(r"[\w.]*$")


def execute(code, cursor=None):
    if cursor is not None:
        return complete(code, cursor)
    tree = ast.parse(code, filename="<code>", mode="exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<code>", "exec"), _session)
    if last is None:
        return ""
    value = eval(compile(ast.Expression(last.value), "<code>", "eval"), _session)
    return "" if value is None else repr(value)


def complete(code, cursor):
    # The cursor counts UTF-16 units, as the client's JSON strings do; Python counts code points.
    before = code.encode("utf-16-le", "surrogatepass")[: 2 * cursor].decode("utf-16-le", "ignore")
    word = _WORD.search(before).group()
    if word == "" or word[0].isdigit() or word[0] == ".":
        return []
    _session.setdefault("__builtins__", __builtins__)
    completer = rlcompleter.Completer(_with_imports(before))
    found = []
    for state in range(10_000):
        candidate = completer.complete(word, state)
        if candidate is None:
            break
        candidate = candidate.rstrip("(): ")
        if candidate not in found:
            found.append(candidate)
    return found


# The session's names and what the code's complete top-level imports before the cursor's line
# bind, in a copy: the session itself changes only when code runs.
def _with_imports(before):
    namespace = dict(_session)
    try:
        tree = ast.parse(before[: before.rfind("\n") + 1])
    except SyntaxError:
        return namespace
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                module = _imported(alias.name)
                if module is None:
                    continue
                top = alias.name.split(".")[0]
                namespace[alias.asname or top] = module if alias.asname else sys.modules[top]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = _imported(node.module)
            for alias in node.names if module is not None else []:
                if alias.name != "*" and hasattr(module, alias.name):
                    namespace[alias.asname or alias.name] = getattr(module, alias.name)
    return namespace


def _imported(name):
    try:
        return importlib.import_module(name)
    except Exception:
        return None
