/** Counters the emulator keeps about what clients did; see {@link EmulatorStats}. */
import type { FaultKind } from './options.js';

/**
 * Per-client counters. Clients are labelled by login, by position in `tokens` (`token#1`), by a
 * short hash (`token-<hash>`) when any token is accepted, or `ip:<address>`; never by the token.
 */
export interface ClientStats {
  requests: number;
  /** Requests that arrived while the primary limit was exhausted (or too low for the cost). */
  overPrimary: number;
  /** Requests refused by a secondary limit (concurrency, points per minute, or a block). */
  overSecondary: number;
}

/** A snapshot of {@link startEmulator}'s counters (`stats()` and `GET /_emulator/stats`). */
export interface EmulatorStats {
  /** ISO time the emulator started. */
  startedAt: string;
  /** All requests answered or dropped, including `/_emulator/*`. */
  requests: number;
  /** Requests per route, e.g. `GET /repositories`, `POST /graphql`. */
  routes: Record<string, number>;
  /** Requests per client. */
  clients: Record<string, ClientStats>;
  /** Responses per HTTP status (`"200"`, `"304"`, ...); faults that send no status are in `faults`. */
  statuses: Record<string, number>;
  /** Most requests in flight at the same moment. */
  peakConcurrency: number;
  /** Requests in flight now. */
  inFlight: number;
  /**
   * Requests that arrived while their client's limit was exhausted or over a secondary limit.
   * A well-behaved client keeps `total` at 0.
   */
  overLimit: { primary: number; secondary: number; total: number };
  /** Faults injected, per kind. */
  faults: Record<FaultKind, number>;
  /** GraphQL points charged. */
  graphqlPoints: number;
  /** Repositories returned by listing pages, and languages objects served (REST and GraphQL). */
  served: { repositories: number; languages: number };
}

/** Mutable counters behind {@link EmulatorStats}. */
export class StatsRecorder {
  private readonly startedAt = new Date().toISOString();
  requests = 0;
  inFlight = 0;
  peakConcurrency = 0;
  graphqlPoints = 0;
  servedRepositories = 0;
  servedLanguages = 0;
  private readonly routes = new Map<string, number>();
  private readonly statuses = new Map<number, number>();
  private readonly clients = new Map<string, ClientStats>();
  private readonly faults: Record<FaultKind, number> = {
    http500: 0,
    http502: 0,
    http503: 0,
    reset: 0,
    stall: 0,
    truncated: 0,
  };

  begin(): void {
    this.requests++;
    this.inFlight++;
    if (this.inFlight > this.peakConcurrency) this.peakConcurrency = this.inFlight;
  }

  end(): void {
    this.inFlight--;
  }

  route(name: string): void {
    this.routes.set(name, (this.routes.get(name) ?? 0) + 1);
  }

  status(code: number): void {
    this.statuses.set(code, (this.statuses.get(code) ?? 0) + 1);
  }

  fault(kind: FaultKind): void {
    this.faults[kind]++;
  }

  client(label: string): ClientStats {
    let c = this.clients.get(label);
    if (!c) {
      c = { requests: 0, overPrimary: 0, overSecondary: 0 };
      this.clients.set(label, c);
    }
    return c;
  }

  snapshot(): EmulatorStats {
    let primary = 0;
    let secondary = 0;
    const clients: Record<string, ClientStats> = {};
    for (const [label, c] of this.clients) {
      clients[label] = { ...c };
      primary += c.overPrimary;
      secondary += c.overSecondary;
    }
    return {
      startedAt: this.startedAt,
      requests: this.requests,
      routes: Object.fromEntries(this.routes),
      clients,
      statuses: Object.fromEntries([...this.statuses].map(([k, v]) => [String(k), v])),
      peakConcurrency: this.peakConcurrency,
      inFlight: this.inFlight,
      overLimit: { primary, secondary, total: primary + secondary },
      faults: { ...this.faults },
      graphqlPoints: this.graphqlPoints,
      served: { repositories: this.servedRepositories, languages: this.servedLanguages },
    };
  }
}
