/**
 * A node:test reporter that writes one JSON object per finished test, used to hand results from
 * inside User-Mode Linux back to the host (through a hostfs folder).
 */
interface TestEvent {
  type: string;
  data: {
    name: string;
    nesting: number;
    file?: string;
    skip?: boolean | string;
    todo?: boolean | string;
    details?: { duration_ms?: number; error?: { message?: string; cause?: { message?: string; stack?: string } } };
  };
}

export default async function* reporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { name, nesting, file, skip, details } = event.data;
    const cause = details?.error?.cause;
    yield `${JSON.stringify({
      name,
      nesting,
      file,
      passed: event.type === 'test:pass',
      skip: skip === undefined || skip === false ? undefined : String(skip),
      ms: details?.duration_ms,
      error: event.type === 'test:fail' ? (cause?.stack ?? cause?.message ?? details?.error?.message ?? 'failed') : undefined,
    })}\n`;
  }
}
