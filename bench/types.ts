/**
 * The small contract between the bench runner and its sections (proxy, bus, locks, mcp-locks, routing).
 * A section module exports `run(ctx)` (or a default function) resolving to rows.
 */

/** One line of a section's table. `value` null means "not measured" (say why in `note`). */
export interface BenchRow {
  name: string;
  value: number | null;
  unit: string;
  /** Human-readable target, e.g. "≤ 2 ms" or "≥ 20000/s". */
  target?: string;
  pass?: boolean;
  note?: string;
  /** When `value` is the median over rounds: the smallest and largest round, and how many rounds. */
  min?: number;
  max?: number;
  rounds?: number;
  /** The per-round values (or other raw samples) behind `value`, for the JSON only. */
  raw?: unknown;
}

export interface SectionContext {
  /** Absolute path of the repository root. */
  readonly repoRoot: string;
  /** `--quick`: fewer rounds and samples, a smoke run. */
  readonly quick: boolean;
  /** Loopback redis-server started for this run (bus/locks sections), when one is available. */
  readonly redisUrl?: string;
  /** Wall-clock budget of the section; it must return on its own within it. */
  readonly budgetMs: number;
  /** Progress messages (stderr). stdout is reserved for the final table. */
  readonly log: (message: string) => void;
  /** `--http-clients N --http-calls N`: the http section's load, when given. */
  readonly httpLoad?: { clients?: number; calls?: number };
}

/** Rows plus a table of the section's own (side by side), printed under the sections' table. */
export interface SectionReport {
  rows: BenchRow[];
  markdown?: string;
}

type SectionResult = BenchRow[] | BenchRow | SectionReport;
export type Section = (ctx: SectionContext) => Promise<SectionResult> | SectionResult;
