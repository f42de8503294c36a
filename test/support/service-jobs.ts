import { http } from './http';
import { createContext, registerFunction, upload } from './jobs';
import { waitUntil } from './wait';

// An instance of a service: an executable that runs until it is killed, saying so on stdout.
const SERVE = `#!/usr/bin/env node
process.stdout.write('serving ' + process.pid + '\\n');
process.stderr.write('ready\\n');
setInterval(() => process.stdout.write('tick\\n'), 1000);
`;

// A context roomy enough for every instance of the suites' service jobs at once, and the
// function the instances run.
export async function defineServe(url: string): Promise<void> {
  await upload(url, 'serve.sh', SERVE);
  await createContext(url, 'services', { workerMode: 'exclusive', maxJobs: 16 });
  await registerFunction(url, 'serve', 'serve.sh', 'exec', '', 'services');
}

export interface Summary {
  queued: number;
  starting: number;
  running: number;
  complete: number;
  failed: number;
  lost: number;
}

export interface ServiceJob {
  name: string;
  status: string;
  taskGroups: {
    name: string;
    count: number;
    countInit: number;
    countMax: number;
    summary: Summary;
    allocations: { id: string; state: string }[];
  }[];
}

export async function serviceJob(url: string, name: string): Promise<ServiceJob> {
  const res = await http<ServiceJob>(url, 'GET', `/api/v1/service-jobs/${name}`);
  if (res.status !== 200) throw new Error(`service job ${name}: ${res.status} ${res.text}`);
  return res.body;
}

// Waits until the job's first group's summary matches, and answers the job as it then was.
export async function waitForSummary(
  url: string,
  name: string,
  expected: Partial<Summary>,
  timeoutMs = 30_000,
): Promise<ServiceJob> {
  let job: ServiceJob | undefined;
  try {
    await waitUntil(async () => {
      job = await serviceJob(url, name);
      const summary = job.taskGroups[0]!.summary;
      return Object.entries(expected).every(([k, v]) => summary[k as keyof Summary] === v);
    }, timeoutMs);
  } catch {
    throw new Error(`service job ${name} never reached ${JSON.stringify(expected)}: ${JSON.stringify(job)}`);
  }
  return job!;
}
