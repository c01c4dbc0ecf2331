// What changed between two renders of a list of sections, in words for the live region.
// The desk re-fetches whole lists on events; diffing them is what tells a screen-reader user
// (and anyone glancing away) that a conversation arrived, moved up, or was paused.

/**
 * previous/current: {sectionName: [conversationId, ...]} in display order.
 * phrases: {sectionName: (id) => sentence when `id` enters that section}.
 * Returns sentences; empty on the first render (previous === null).
 */
export function describeChanges(previous, current, phrases, { topSection, leftPhrase }) {
  if (previous === null) return [];
  const where = (lists) => {
    const map = new Map();
    for (const [section, ids] of Object.entries(lists)) for (const id of ids) map.set(id, section);
    return map;
  };
  const before = where(previous);
  const after = where(current);
  const sentences = [];
  for (const [id, section] of after) {
    if (before.get(id) !== section && phrases[section]) sentences.push(phrases[section](id));
  }
  for (const id of before.keys()) if (!after.has(id)) sentences.push(leftPhrase(id));
  const oldTop = previous[topSection]?.[0];
  const newTop = current[topSection]?.[0];
  if (newTop && newTop !== oldTop && before.get(newTop) === topSection) {
    sentences.push(`${newTop} moved to the top`);
  }
  return sentences;
}
