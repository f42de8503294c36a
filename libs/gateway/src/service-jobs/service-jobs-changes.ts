import { Injectable } from '@nestjs/common';
import type { OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, PoolClient } from 'pg';
import type { DataSource } from 'typeorm';
import { READ_MODELS_CONNECTION, SERVICE_JOBS_CHANGED_CHANNEL, ServiceJobsQuery } from '@spindle/read-models';

interface Waiter {
  readonly after: number;
  readonly wake: () => void;
}

// Wakes long polls of the service jobs view when it changes: one connection LISTENs on the
// channel the projection notifies in the transaction that changes the view, so Postgres delivers
// the new index when that transaction commits, in whichever process the projector runs. No timer
// polls. The connection is opened by the first long poll and kept.
@Injectable()
export class ServiceJobsChanges implements OnApplicationShutdown {
  private readonly waiters = new Set<Waiter>();
  private listening: Promise<PoolClient> | undefined;

  constructor(
    @InjectDataSource(READ_MODELS_CONNECTION) private readonly dataSource: DataSource,
    private readonly jobs: ServiceJobsQuery,
  ) {}

  // Resolves once the view's index passed `index`, after `ms`, or when `signal` aborts (the client left).
  async waitPast(index: number, ms: number, signal?: AbortSignal): Promise<void> {
    await this.listen();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(waiter);
        resolve();
      };
      const waiter: Waiter = { after: index, wake: done };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done);
      this.waiters.add(waiter);
      // A change may have committed between the caller's read and this waiter: look once more.
      this.jobs.currentIndex().then((now) => {
        if (now > index) done();
      }, done);
    });
  }

  private listen(): Promise<PoolClient> {
    this.listening ??= (async () => {
      const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
      const client = await pool.connect();
      client.on('notification', (message) => {
        const index = Number(message.payload);
        for (const waiter of this.waiters) if (index > waiter.after) waiter.wake();
      });
      client.on('error', () => {
        // Lost: the next long poll listens again; those waiting answer what the view holds now.
        this.listening = undefined;
        client.release(true);
        for (const waiter of this.waiters) waiter.wake();
      });
      await client.query(`listen ${SERVICE_JOBS_CHANGED_CHANNEL}`);
      return client;
    })().catch((e: unknown) => {
      this.listening = undefined;
      throw e;
    });
    return this.listening;
  }

  async onApplicationShutdown(): Promise<void> {
    for (const waiter of this.waiters) waiter.wake();
    const listening = this.listening;
    this.listening = undefined;
    if (listening) (await listening.catch(() => undefined))?.release(true);
  }
}
