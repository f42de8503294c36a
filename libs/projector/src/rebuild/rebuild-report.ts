// What a caller can tune about a rebuild and what it hears back: the options, the progress it is
// told as it goes, and the report at the end (`npm run rebuild` prints it as JSON).
export interface RebuildOptions {
  // Events read per statement.
  readonly batchSize?: number;
  // Rows kept in memory; past this, every changed row is written and the oldest half forgotten
  // (read back from the new table if a later event touches them).
  readonly cacheRows?: number;
  // How long the swap waits for the live table's readers and writers before it tries again.
  readonly lockTimeoutMs?: number;
  readonly swapAttempts?: number;
  readonly onProgress?: (progress: RebuildProgress) => void;
  // Test hook: runs after the new table is loaded and indexed, before the swap.
  readonly beforeSwap?: () => Promise<void>;
}

export interface RebuildProgress {
  readonly phase: 'load' | 'catch-up' | 'swap';
  readonly events: number;
  readonly rows: number;
  readonly elapsedMs: number;
}

export interface RebuildReport {
  readonly projection: string;
  readonly table: string;
  readonly source: string;
  readonly events: number; // events of the projection's types replayed
  readonly invalidEvents: number; // failed validation, skipped (the live consumer dead-letters them)
  readonly rows: number; // rows of the rebuilt table
  readonly refolded: number; // streams replayed whole under the lock (the live table was ahead)
  readonly swapAttempts: number;
  readonly loadMs: number;
  readonly indexMs: number;
  readonly catchUpMs: number;
  readonly lockedMs: number; // how long the live table's readers and writers waited
  readonly totalMs: number;
  readonly eventsPerSecond: number;
}
