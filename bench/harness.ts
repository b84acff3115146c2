/** Tiny timing helpers for `npm run bench`: warm up, then run for a fixed time and report the rate. */
export interface Measurement {
  iterations: number;
  seconds: number;
  perSecond: number;
}

export function measure(fn: () => void, minSeconds = 0.5): Measurement {
  for (let i = 0; i < 200; i += 1) fn(); // let the JIT settle
  let iterations = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(minSeconds * 1e9));
  let elapsed = 0n;
  while (elapsed < limit) {
    for (let i = 0; i < 100; i += 1) fn();
    iterations += 100;
    elapsed = process.hrtime.bigint() - start;
  }
  const seconds = Number(elapsed) / 1e9;
  return { iterations, seconds, perSecond: iterations / seconds };
}

export function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function verdict(ok: boolean): string {
  return ok ? "PASS" : "MISS";
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows
    .map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join("  "))
    .join("\n");
}
