/** Durations as people write them in flags and config files: `30s`, `10m`, `1h30m`, `2d`. */

const UNITS = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
] as const;

/** `30m`, `2h`, `1d`, `1h30m`, `90s`, in milliseconds; undefined when the text is not such a duration (or is zero). */
export function parseDuration(text: string): number | undefined {
  const groups = /^(?:(?<d>\d+)d)?(?:(?<h>\d+)h)?(?:(?<m>\d+)m)?(?:(?<s>\d+)s)?$/i.exec(text.trim().replaceAll(" ", ""))?.groups;
  if (!groups) return undefined;
  let total = 0;
  for (const [unit, ms] of UNITS) total += Number(groups[unit] ?? 0) * ms;
  return total > 0 ? total : undefined;
}

/** The largest unit and the next one, truncated rather than rounded so "in 1h 59m" never reads "in 2h": `1h 20m`, `3d 4h`, `45s`. */
export function formatDuration(ms: number): string {
  const abs = Math.abs(ms);
  const index = UNITS.findIndex(([, size]) => abs >= size);
  if (index === -1) return "0s";
  const [unit, size] = UNITS[index]!;
  const next = UNITS[index + 1];
  const major = `${Math.floor(abs / size)}${unit}`;
  const minor = next ? Math.floor((abs % size) / next[1]) : 0;
  return minor > 0 ? `${major} ${minor}${next![0]}` : major;
}
