import type { Database } from "bun:sqlite";

/** A dictionary entry: a key or a value and how many datasets use it. */
export interface Term {
  term: string;
  datasets: number;
}

// Above every character a folded term can hold: `fold >= p AND fold < p || TOP` is "starts with p" as an index range.
const TOP = "\u{10FFFF}";

/** Ranked reads of the maintained count tables (migration 007); nothing here groups tag rows at request time. */
export function dictionaryRepo(db: Database) {
  const topKeys = db.query<Term, [number]>("SELECT key AS term, datasets FROM tag_key_counts ORDER BY datasets DESC, key LIMIT ?");
  const keysByPrefix = db.query<Term, [string, string, number]>(
    "SELECT key AS term, datasets FROM tag_key_counts WHERE fold >= ? AND fold < ? ORDER BY datasets DESC, key LIMIT ?",
  );
  const keysByPrefixes = db.query<Term, [string, string, number]>(
    `SELECT DISTINCT c.key AS term, c.datasets FROM json_each(?) v CROSS JOIN tag_key_counts c ON c.fold >= v.value AND c.fold < v.value || ?
     ORDER BY c.datasets DESC, c.key LIMIT ?`,
  );
  const topValues = db.query<Term, [string, number]>(
    "SELECT value AS term, sum(datasets) AS datasets FROM tag_value_counts WHERE key_fold = ? GROUP BY value ORDER BY 2 DESC, value LIMIT ?",
  );
  const valuesByPrefix = db.query<Term, [string, string, string, number]>(
    `SELECT value AS term, sum(datasets) AS datasets FROM tag_value_counts WHERE key_fold = ? AND fold >= ? AND fold < ?
     GROUP BY value ORDER BY 2 DESC, value LIMIT ?`,
  );
  const valuesByPrefixes = db.query<Term, [string, string, string, number]>(
    `SELECT c.value AS term, sum(c.datasets) AS datasets FROM json_each(?) v
       CROSS JOIN tag_value_counts c ON c.key_fold = ? AND c.fold >= v.value AND c.fold < v.value || ?
     GROUP BY c.value ORDER BY 2 DESC, c.value LIMIT ?`,
  );
  const keyCount = db.query<{ datasets: number }, [string]>("SELECT datasets FROM tag_key_counts WHERE key = ?");
  const commonKeys = db.query<{ term: string; fold: string; datasets: number }, [number, number, number, number]>(
    "SELECT key AS term, fold, datasets FROM tag_key_counts WHERE datasets >= ? AND length(fold) BETWEEN ? AND ? ORDER BY datasets DESC, key LIMIT ?",
  );

  return {
    keys(prefixFold: string, limit: number): Term[] {
      return prefixFold === "" ? topKeys.all(limit) : keysByPrefix.all(prefixFold, prefixFold + TOP, limit);
    },
    /** Keys starting with any of the given folded prefixes (the typo variants), most used first. */
    keysByAnyPrefix: (prefixes: string[], limit: number) => keysByPrefixes.all(JSON.stringify(prefixes), TOP, limit),
    values(keyFold: string, prefixFold: string, limit: number): Term[] {
      return prefixFold === "" ? topValues.all(keyFold, limit) : valuesByPrefix.all(keyFold, prefixFold, prefixFold + TOP, limit);
    },
    valuesByAnyPrefix: (keyFold: string, prefixes: string[], limit: number) => valuesByPrefixes.all(JSON.stringify(prefixes), keyFold, TOP, limit),
    keyCount: (key: string) => keyCount.get(key)?.datasets ?? 0,
    /** The most used keys whose length is within `[minLength, maxLength]` (candidates for "did you mean"). */
    commonKeys: (minDatasets: number, minLength: number, maxLength: number, limit: number) => commonKeys.all(minDatasets, minLength, maxLength, limit),
  };
}
