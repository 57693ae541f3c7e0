/**
 * A small logger for long-running parts (the agent and the services it runs): one line per event
 * on standard error, as text for people and journald, or as JSON lines for machines. Commands
 * keep writing their results to standard output and do not log.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'text' | 'json';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  /** The least level written (default info; debug with DEBUG=ha*). */
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go (default: standard error). */
  write?: (line: string) => void;
  /** The time of an event (tests pass a fixed clock). */
  now?: () => Date;
  /** Which part logs ("vrrp", "agent"…). */
  component?: string;
  /** Text lines without the time (journald adds its own). */
  noTime?: boolean;
}

/** A text value as key=value wants it: bare when plain, JSON-quoted otherwise. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}

export class Logger {
  private readonly min: number;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(private readonly options: LoggerOptions = {}) {
    this.min = RANK[options.level ?? 'info'];
    this.write = options.write ?? ((line) => { process.stderr.write(line); });
    this.now = options.now ?? (() => new Date());
  }

  /** The same logger for a part of the program: its lines say which. */
  child(component: string): Logger {
    return new Logger({ ...this.options, component: this.options.component ? `${this.options.component}.${component}` : component });
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.min;
  }

  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const time = this.now().toISOString();
    const component = this.options.component;
    if (this.options.format === 'json') {
      const entry: Record<string, unknown> = { time, level, ...(component ? { component } : {}), msg: message };
      for (const [k, v] of Object.entries(fields)) entry[k] = v instanceof Error ? v.message : typeof v === 'bigint' ? v.toString() : v;
      this.write(`${JSON.stringify(entry)}\n`);
      return;
    }
    const kv = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => ` ${k}=${textValue(v)}`).join('');
    this.write(`${this.options.noTime ? '' : `${time} `}${level}${component ? ` ${component}` : ''}: ${message}${kv}\n`);
  }

  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }
}
