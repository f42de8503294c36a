package io.spindle.runner.scala;

import java.io.File;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import scala.jdk.javaapi.CollectionConverters;
import scala.tools.nsc.Settings;
import scala.tools.nsc.interpreter.CompletionCandidate;
import scala.tools.nsc.interpreter.IMain;
import scala.tools.nsc.interpreter.Results;
import scala.tools.nsc.interpreter.shell.Accumulator;
import scala.tools.nsc.interpreter.shell.ReplCompletion;
import scala.tools.nsc.interpreter.shell.ReplReporterImpl;

/**
 * The interpreter of an Ilum SCALA CODE group's requests: a Scala 2.13 REPL (IMain) per worker,
 * as Livy's Scala sessions. Run by the worker's JVM runner, which loads this class once per set of
 * jars (this jar, the runner's Scala 2.13 and the group's jars, in one class loader; see
 * JvmRunner) and keeps it warm: the interpreter is a static of this class, so what one request
 * defines the next one on the same worker sees.
 *
 * <p>run({code}) interprets the code and answers what the REPL prints for it (`val res0: Int = 42`,
 * `def f(a: Int): Int`; "" when it prints nothing). A compile error, incomplete code or an exception
 * fails the request with the REPL's text, its first line the error. run({code, cursor}) answers the
 * REPL's completions at the cursor (a UTF-16 offset into the code): the names that may stand
 * for the word being completed (`toString` for `x.toSt`).
 */
public final class ScalaCodeSession {
  private static IMain interpreter;
  private static StringWriter printed;

  public Object run(Map<String, Object> args) {
    String code = String.valueOf(args.get("code"));
    Object cursor = args.get("cursor");
    // A worker runs one request at a time; this keeps the interpreter's state whole regardless.
    synchronized (ScalaCodeSession.class) {
      IMain repl = interpreter();
      if (cursor instanceof Number at) return complete(repl, code, at.intValue());
      return execute(repl, code);
    }
  }

  private static String execute(IMain repl, String code) {
    printed.getBuffer().setLength(0);
    Results.Result result = repl.interpret(code);
    String text = printed.toString().stripTrailing();
    if (result instanceof Results.Success$) return text;
    if (result instanceof Results.Incomplete$)
      throw new CodeError("error: incomplete input (the code ends inside a statement)", code);
    throw new CodeError(firstError(text), text);
  }

  private static List<String> complete(IMain repl, String code, int cursor) {
    Set<String> names = new LinkedHashSet<>(); // overloads share a name
    var result = new ReplCompletion(repl, new Accumulator()).complete(code, cursor);
    for (CompletionCandidate candidate : CollectionConverters.asJava(result.candidates()))
      names.add(candidate.name());
    return new ArrayList<>(names);
  }

  // A compile error's own line (`error: not found: value y`, `On line 2: error: type mismatch;`),
  // else the text's first line (an exception's `java.lang.IllegalStateException: boom`).
  private static String firstError(String text) {
    String first = null;
    for (String line : text.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("error:") || trimmed.contains(": error:")) return trimmed;
      if (first == null && !trimmed.isEmpty()) first = trimmed;
    }
    return first == null ? "error: the code failed" : first;
  }

  private static IMain interpreter() {
    if (interpreter != null) return interpreter;
    Settings settings = new Settings();
    // The compiler's class path is this class loader's jars (Scala, the group's): the runner's
    // own class path (java.class.path) is not the group's, so usejavacp only outside a runner.
    String classPath = classPathOf(ScalaCodeSession.class.getClassLoader());
    if (classPath == null) settings.usejavacp().value_$eq(Boolean.TRUE);
    else settings.classpath().value_$eq(classPath);
    printed = new StringWriter();
    ReplReporterImpl reporter = new ReplReporterImpl(settings, new PrintWriter(printed, true));
    reporter.maxPrintString_$eq(0); // a value is answered whole, not cut at 800 characters
    IMain repl = new IMain(settings, reporter);
    if (!repl.initializeCompiler())
      throw new IllegalStateException("the Scala interpreter did not start: " + printed);
    interpreter = repl;
    return repl;
  }

  private static String classPathOf(ClassLoader loader) {
    if (!(loader instanceof URLClassLoader urls)) return null;
    List<String> paths = new ArrayList<>();
    for (URL url : urls.getURLs()) {
      try {
        paths.add(Path.of(url.toURI()).toString());
      } catch (Exception e) {
        throw new IllegalStateException("a jar of the session is not a file: " + url, e);
      }
    }
    return String.join(File.pathSeparator, paths);
  }

  /** The REPL's own text of a failure, as it is: its first line is the error, no Java frames. */
  static final class CodeError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String text;

    CodeError(String message, String text) {
      super(message, null, false, false);
      String body = text.stripTrailing();
      this.text =
          body.strip().startsWith(message) ? body.strip() : body.isBlank() ? message : message + "\n" + body;
    }

    @Override
    public String toString() {
      return text;
    }
  }
}
