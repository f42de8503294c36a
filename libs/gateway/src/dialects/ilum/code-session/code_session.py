# Spindle: the interpreter of an Ilum CODE group's requests ({"type": "interactive_code_execute",
# "code": ...}). Uploaded as the group's program and run by the worker's warm python runner, which
# loads a program once per process: this module's namespace is the worker's session, so what one
# request defines the next one on the same worker sees. As Livy's statements, the answer is the
# value of the code's last statement when it is an expression (its repr; "" for None or for code
# that ends in a statement). There is no Spark runtime: `spark` is None.
import ast

_session = {"__name__": "__ilum_code__", "spark": None}


def execute(code):
    tree = ast.parse(code, filename="<code>", mode="exec")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<code>", "exec"), _session)
    if last is None:
        return ""
    value = eval(compile(ast.Expression(last.value), "<code>", "eval"), _session)
    return "" if value is None else repr(value)
