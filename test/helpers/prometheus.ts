/**
 * The samples of a Prometheus text exposition, by series (`name` or `name{a="x",b="y"}` with
 * labels as the server wrote them): for tests that scrape `/metrics`.
 *
 * @example
 * const samples = await scrape(server.url)
 * sample(samples, 'perdure_forwarded_requests_total', { op: 'start', outcome: 'ok' }) // 0 when absent
 */
export type Samples = Map<string, number>;

export async function scrape(url: string): Promise<Samples> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return samples;
}

/** One series' value, 0 when the series is absent (a counter never incremented, a label never seen). */
export function sample(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels);
  for (const [series, value] of samples) {
    const brace = series.indexOf('{');
    if ((brace < 0 ? series : series.slice(0, brace)) !== name) continue;
    const have = brace < 0 ? '' : series.slice(brace);
    if (wanted.every(([k, v]) => have.includes(`${k}="${v}"`))) return value;
  }
  return 0;
}
