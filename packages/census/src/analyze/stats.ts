/** z for a two-sided 95% interval. */
const Z95 = 1.959963984540054;

/**
 * The 95% Wilson score interval for a proportion of `successes` in `trials`: unlike the
 * normal approximation it stays inside [0, 1] and behaves for rare languages (a handful of
 * repositories out of 100,000). Returns [0, 1] when there are no trials.
 */
export function wilsonInterval(successes: number, trials: number, z = Z95): [number, number] {
  if (trials <= 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const denom = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denom;
  // The bounds are exactly 0 and 1 at the extremes (rounding would leave 0.9999999999999999).
  return [
    successes <= 0 ? 0 : Math.max(0, centre - half),
    successes >= trials ? 1 : Math.min(1, centre + half),
  ];
}
