package io.spindle.runner;

import java.util.Map;

/**
 * The running Spindle task, seen from its own code: its job id, its working directory and its
 * variables (SPINDLE_JOB_ID, the values of the secrets it was given, ...). A JVM is shared by the
 * tasks of a worker and cannot change its own environment or directory, so a task reads them here
 * rather than from System.getenv() and the current directory.
 */
public final class TaskContext {
  private static final InheritableThreadLocal<TaskContext> CURRENT = new InheritableThreadLocal<>();

  private final String jobId;
  private final String workDir;
  private final Map<String, String> env;

  TaskContext(String jobId, String workDir, Map<String, String> env) {
    this.jobId = jobId;
    this.workDir = workDir;
    this.env = Map.copyOf(env);
  }

  /** The task of the calling thread (and of the threads it started); fails outside a task. */
  public static TaskContext current() {
    TaskContext context = CURRENT.get();
    if (context == null) throw new IllegalStateException("not inside a Spindle task");
    return context;
  }

  static TaskContext currentOrNull() {
    return CURRENT.get();
  }

  static void enter(TaskContext context) {
    CURRENT.set(context);
  }

  public String jobId() {
    return jobId;
  }

  public String workDir() {
    return workDir;
  }

  /** The task's variable, else the process's, else null. */
  public String env(String name) {
    String own = env.get(name);
    return own != null ? own : System.getenv(name);
  }

  /** The task's own variables. */
  public Map<String, String> env() {
    return env;
  }
}
