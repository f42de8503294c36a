package io.spindle.runner;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.ToNumberPolicy;
import com.google.gson.reflect.TypeToken;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * Spindle's JVM runner: one long-lived JVM that runs a worker's `jvm-runner` tasks, each in a
 * thread of its own, as the node and python runners do for theirs (libs/worker/src/sandbox/runner.ts).
 *
 * <p>Protocol: JSON lines. In on stdin: {"type":"run","taskId","file","libraries","entrypoint","args",
 * "workDir","env"} (`libraries`: further jars, may be absent), {"type":"cancel","taskId"}, {"type":"ping","id"}. Out on the process's real stdout, which
 * no task can write to (System.out and System.err are replaced by streams that make every line a log
 * message of the task that printed it): {"type":"started","taskId","at"}, {"type":"log","taskId",
 * "stream","text"}, {"type":"result","taskId","ok","value"|"error"}, {"type":"pong","id"}. No message
 * is longer than the bytes given as the first argument.
 *
 * <p>A task: `entrypoint` names a public class of the jar `file` or one of its `libraries`, with a public no-argument
 * constructor and a public method `run`: run(spark, config) (Ilum's interactive job: `spark` is
 * null, there is no Spark runtime; `config` a java.util.Map) or run(args) (the task's arguments as a
 * java.util.Map). Its return value is the result: a String as is, anything else as JSON; an
 * Optional or a Scala Option is unwrapped. Every program (a jar and its libraries, as one set) has a
 * class loader of its own over all of its jars, kept for the runner's life (a warm class: its static
 * state survives between tasks), whose parent sees the JDK and io.spindle.runner.TaskContext only.
 *
 * <p>A program jar whose manifest says `Spindle-Runner-Libraries: scala` (Spindle's Scala code
 * session, tools/jvm-runner/scala-session) also has the runner's own Scala 2.13 (scala/lib/ beside
 * the runner's jar, built with it) in its loader, after the jar and before its libraries.
 */
public final class JvmRunner {
  private static final int PIECE = 64 * 1024; // characters of output per log message at most
  private static final String RUNNER_LIBRARIES = "Spindle-Runner-Libraries";
  private static final Gson GSON =
      new GsonBuilder()
          .serializeNulls()
          .disableHtmlEscaping()
          .setObjectToNumberStrategy(ToNumberPolicy.LONG_OR_DOUBLE)
          .create();

  private final PrintStream channel;
  private final int maxMessageBytes;
  private final Map<String, Thread> running = new ConcurrentHashMap<>();
  private final Map<List<String>, URLClassLoader> loaders = new ConcurrentHashMap<>();
  private final Map<String, List<String>> runnerLibraries = new ConcurrentHashMap<>(); // by program jar
  private final ClassLoader apiLoader = new ApiOnlyLoader(JvmRunner.class.getClassLoader());
  private final List<TaskOutput> outputs = new ArrayList<>();

  private JvmRunner(PrintStream channel, int maxMessageBytes) {
    this.channel = channel;
    this.maxMessageBytes = maxMessageBytes;
  }

  public static void main(String[] argv) throws Exception {
    int max = argv.length > 0 ? Integer.parseInt(argv[0]) : 32 * 1024 * 1024;
    PrintStream channel =
        new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
    JvmRunner runner = new JvmRunner(channel, max);
    PrintStream realErr = System.err;
    TaskOutput out = new TaskOutput(runner, "stdout", realErr);
    TaskOutput err = new TaskOutput(runner, "stderr", realErr);
    runner.outputs.addAll(List.of(out, err));
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    System.setIn(InputStream.nullInputStream()); // the agent's messages are not a task's input
    BufferedReader in =
        new BufferedReader(new InputStreamReader(new FileInputStream(FileDescriptor.in), StandardCharsets.UTF_8));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      if (line.isBlank()) continue;
      JsonObject message = JsonParser.parseString(line).getAsJsonObject();
      switch (message.get("type").getAsString()) {
        case "run" -> runner.start(message);
        case "cancel" -> runner.cancel(message.get("taskId").getAsString());
        case "ping" -> runner.send(Map.of("type", "pong", "id", message.get("id").getAsLong()));
        default -> realErr.println("[spindle] unknown message " + message.get("type"));
      }
    }
    System.exit(0); // the agent closed stdin: the worker is gone
  }

  void send(Map<String, Object> message) {
    String line = GSON.toJson(message);
    synchronized (channel) {
      channel.print(line);
      channel.print('\n');
      channel.flush();
    }
  }

  void log(String taskId, String stream, String text) {
    for (int at = 0; at < Math.max(text.length(), 1); at += PIECE) {
      String piece = text.substring(at, Math.min(text.length(), at + PIECE));
      send(message("log", taskId, "stream", stream, "text", piece));
    }
  }

  /** The task a thread prints for: its own, or the only one running. */
  String taskOf(TaskContext context) {
    if (context != null && running.containsKey(context.jobId())) return context.jobId();
    if (running.size() == 1) return running.keySet().iterator().next();
    return null;
  }

  private void start(JsonObject message) {
    String taskId = message.get("taskId").getAsString();
    Map<String, String> env = new LinkedHashMap<>();
    JsonElement rawEnv = message.get("env");
    if (rawEnv != null && rawEnv.isJsonObject())
      rawEnv.getAsJsonObject().entrySet().forEach(e -> env.put(e.getKey(), e.getValue().getAsString()));
    TaskContext context = new TaskContext(taskId, stringOr(message.get("workDir"), null), env);
    Thread thread =
        new Thread(
            () -> {
              TaskContext.enter(context);
              Map<String, Object> result = run(message, taskId);
              System.out.flush();
              System.err.flush();
              for (TaskOutput output : outputs) output.finish(taskId); // a last line without its newline
              running.remove(taskId);
              send(result);
            },
            "spindle-task-" + taskId);
    thread.setDaemon(true);
    running.put(taskId, thread);
    send(message("started", taskId, "at", System.currentTimeMillis()));
    thread.start();
  }

  private Map<String, Object> run(JsonObject message, String taskId) {
    try {
      Class<?> type = loaderOf(jarsOf(message)).loadClass(entrypointOf(message));
      Object job = type.getConstructor().newInstance();
      Map<String, Object> args =
          GSON.fromJson(message.get("args"), new TypeToken<Map<String, Object>>() {}.getType());
      Object value = unwrap(invokeRun(type, job, args == null ? Map.of() : args));
      Map<String, Object> result = message("result", taskId, "ok", true);
      result.put("value", value instanceof String ? value : GSON.toJsonTree(value));
      int size = GSON.toJson(result).getBytes(StandardCharsets.UTF_8).length;
      if (size > maxMessageBytes)
        throw new IllegalStateException(
            "the result is " + size + " bytes of JSON, more than a runner message may hold ("
                + maxMessageBytes + "): write it to a file instead");
      return result;
    } catch (Throwable e) {
      Throwable cause = e instanceof InvocationTargetException && e.getCause() != null ? e.getCause() : e;
      StringWriter trace = new StringWriter();
      cause.printStackTrace(new PrintWriter(trace));
      return message("result", taskId, "ok", false, "error", trace.toString());
    }
  }

  private static String entrypointOf(JsonObject message) {
    String entrypoint = stringOr(message.get("entrypoint"), "");
    if (entrypoint.isEmpty()) throw new IllegalArgumentException("a jvm-runner task names its class as entrypoint");
    return entrypoint;
  }

  // run(spark, config) first (Ilum's), else run(args); the one with the most parameters wins.
  private static Object invokeRun(Class<?> type, Object job, Map<String, Object> args) throws Exception {
    Method run =
        Arrays.stream(type.getMethods())
            .filter(m -> m.getName().equals("run") && !Modifier.isStatic(m.getModifiers()))
            .filter(m -> m.getParameterCount() == 1 || m.getParameterCount() == 2)
            .filter(m -> m.getParameterTypes()[m.getParameterCount() - 1].isAssignableFrom(Map.class))
            .max(Comparator.comparingInt(Method::getParameterCount))
            .orElseThrow(
                () ->
                    new NoSuchMethodException(
                        type.getName() + " has no public run(spark, java.util.Map config) nor run(java.util.Map args)"));
    if (run.getParameterCount() == 1) return run.invoke(job, args);
    Object config = args.getOrDefault("config", Map.of());
    return run.invoke(job, args.get("spark"), config instanceof Map ? config : Map.of());
  }

  // java.util.Optional and scala.Option (read by reflection: Scala is the job's, not the runner's).
  private static Object unwrap(Object value) throws Exception {
    if (value instanceof Optional<?> optional) return optional.orElse(null);
    if (value == null) return null;
    String name = value.getClass().getName();
    if (name.equals("scala.None$")) return null;
    if (name.equals("scala.Some")) return value.getClass().getMethod("get").invoke(value);
    return value;
  }

  // The program's jar first, then its libraries in their order: the class path of its loader.
  private List<String> jarsOf(JsonObject message) throws Exception {
    List<String> jars = new ArrayList<>();
    String program = message.get("file").getAsString();
    jars.add(program);
    List<String> own = runnerLibraries.get(program);
    if (own == null) runnerLibraries.put(program, own = runnerLibrariesOf(program));
    jars.addAll(own);
    JsonElement libraries = message.get("libraries");
    if (libraries != null && libraries.isJsonArray())
      for (JsonElement library : libraries.getAsJsonArray()) jars.add(library.getAsString());
    return List.copyOf(jars);
  }

  // The runner's own jars a program asks for by its manifest: only `scala` (Scala 2.13's compiler
  // and library, built beside the runner by tools/jvm-runner/build.sh).
  private static List<String> runnerLibrariesOf(String program) throws Exception {
    String wanted;
    try (JarFile jar = new JarFile(program)) {
      wanted = jar.getManifest() == null ? null : jar.getManifest().getMainAttributes().getValue(RUNNER_LIBRARIES);
    } catch (java.io.IOException e) {
      return List.of(); // not a jar: loading its class fails, saying so
    }
    if (wanted == null) return List.of();
    if (!wanted.equals("scala"))
      throw new IllegalArgumentException(RUNNER_LIBRARIES + ": " + wanted + " is not a library of the runner (scala is)");
    Path dir = Path.of(JvmRunner.class.getProtectionDomain().getCodeSource().getLocation().toURI())
        .getParent().resolve("scala").resolve("lib");
    List<String> jars;
    try (Stream<Path> files = java.nio.file.Files.list(dir)) {
      jars = files.map(Path::toString).filter(f -> f.endsWith(".jar")).sorted().toList();
    } catch (java.io.IOException e) {
      jars = List.of();
    }
    if (jars.isEmpty())
      throw new IllegalStateException(
          "this JVM runner has no Scala 2.13 (" + dir + "): run bash tools/jvm-runner/build.sh");
    return jars;
  }

  // Keyed by the whole set: a program keeps its warm classes as long as its jars are the same.
  private ClassLoader loaderOf(List<String> jars) {
    return loaders.computeIfAbsent(
        jars,
        paths -> {
          URL[] urls = new URL[paths.size()];
          for (int i = 0; i < urls.length; i++) {
            try {
              urls[i] = Path.of(paths.get(i)).toUri().toURL();
            } catch (Exception e) {
              throw new IllegalArgumentException(
                  "cannot read the program " + paths.get(i) + ": " + e.getMessage(), e);
            }
          }
          return new URLClassLoader(urls, apiLoader);
        });
  }

  // A thread cannot be killed safely: it is interrupted (code that waits or checks ends), its result
  // is dropped by the agent, and the agent kills the runner if it then stops answering.
  private void cancel(String taskId) {
    Thread thread = running.get(taskId);
    if (thread != null) thread.interrupt();
  }

  private static String stringOr(JsonElement element, String fallback) {
    return element == null || element.isJsonNull() ? fallback : element.getAsString();
  }

  private static Map<String, Object> message(String type, String taskId, Object... fields) {
    Map<String, Object> message = new LinkedHashMap<>();
    message.put("type", type);
    message.put("taskId", taskId);
    for (int i = 0; i < fields.length; i += 2) message.put((String) fields[i], fields[i + 1]);
    return message;
  }

  /** A task's System.out or System.err: whole lines, each a log message of the task that printed it. */
  private static final class TaskOutput extends OutputStream {
    private final JvmRunner runner;
    private final String stream;
    private final PrintStream fallback;
    private final Map<String, ByteArrayOutputStream> partial = new ConcurrentHashMap<>();

    TaskOutput(JvmRunner runner, String stream, PrintStream fallback) {
      this.runner = runner;
      this.stream = stream;
      this.fallback = fallback;
    }

    @Override
    public synchronized void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) {
      String task = runner.taskOf(TaskContext.currentOrNull());
      if (task == null) {
        fallback.write(bytes, offset, length); // nobody's: the runner's own stderr
        return;
      }
      ByteArrayOutputStream line = partial.computeIfAbsent(task, t -> new ByteArrayOutputStream());
      for (int i = offset; i < offset + length; i++) {
        if (bytes[i] == '\n') {
          runner.log(task, stream, line.toString(StandardCharsets.UTF_8));
          line.reset();
        } else {
          line.write(bytes[i]);
          if (line.size() >= PIECE * 4) {
            runner.log(task, stream, line.toString(StandardCharsets.UTF_8));
            line.reset();
          }
        }
      }
    }

    synchronized void finish(String task) {
      ByteArrayOutputStream line = partial.remove(task);
      if (line != null && line.size() > 0) runner.log(task, stream, line.toString(StandardCharsets.UTF_8));
    }
  }

  /** Sees the JDK and the runner's API (TaskContext) only: a job's own libraries win over ours. */
  private static final class ApiOnlyLoader extends ClassLoader {
    private final ClassLoader runner;

    ApiOnlyLoader(ClassLoader runner) {
      super(ClassLoader.getPlatformClassLoader());
      this.runner = runner;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (name.equals(TaskContext.class.getName())) return runner.loadClass(name);
      return super.loadClass(name, resolve);
    }
  }
}
