import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { NOTIFY_CHANNELS, PgNotifications } from '@spindle/backbone';
import { READ_MODELS_CONNECTION, ServiceJobsQuery } from '@spindle/read-models';

// Wakes long polls of the service jobs view when it changes: the projection notifies the new index
// in the transaction that changes the view, so Postgres delivers it when that transaction commits,
// in whichever process the projector runs, to the process's one LISTEN connection
// (PgNotifications). No timer polls.
@Injectable()
export class ServiceJobsChanges {
  constructor(
    @InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource,
    private readonly jobs: ServiceJobsQuery,
  ) {}

  // Resolves once the view's index passed `index`, after `ms`, or when `signal` aborts (the client
  // left). Also when the LISTEN connection came back after a loss (payload ""), as a notification
  // may have been missed meanwhile: the caller answers what the view holds then.
  async waitPast(index: number, ms: number, signal?: AbortSignal): Promise<void> {
    let settled = false;
    let resolveWait!: () => void;
    const waited = new Promise<void>((resolve) => (resolveWait = resolve));
    const timer = setTimeout(() => done(), ms);
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      off();
      resolveWait();
    };
    let off = () => {};
    signal?.addEventListener('abort', done);
    const stop = await PgNotifications.of(this.dataSource).on(NOTIFY_CHANNELS.serviceJobs, (payload) => {
      if (payload === '' || Number(payload) > index) done();
    });
    off = stop;
    if (settled) stop();
    // A change may have committed between the caller's read and the LISTEN: look once more.
    else if ((await this.jobs.currentIndex().catch(() => Infinity)) > index) done();
    return waited;
  }
}
