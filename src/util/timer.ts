/**
 * The longest delay a Node timer holds: 2^31 - 1 ms, about 24.8 days. A longer one fires
 * after 1 ms (with a warning), so a configured timeout past it would end every evaluation
 * at once. Config refuses such durations; knobs and budgets are clamped to it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
