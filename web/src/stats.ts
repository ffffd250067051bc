/**
 * Debug counters for `npm run bench` (`window.__mcpcStats`), never shown in the UI: how many
 * stream messages the page took in, by kind, and how many events the coordination tab drew —
 * set against what the bench published, they show whether the page keeps up.
 */
export const stats = { events: 0, logs: 0, drawnEvents: 0 };
(window as unknown as { __mcpcStats: typeof stats }).__mcpcStats = stats;
