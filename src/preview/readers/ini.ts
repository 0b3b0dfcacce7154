/** A parsed INI-style header: section name (lower case) to key (lower case) to value. */
export type IniSections = Map<string, Map<string, string>>;

/** Parses "[Section]" / "{Block}" headers and "key = value" or "key=value" lines, as written by Nikon CT Pro and VGStudio. */
export function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current = new Map<string, string>();
  sections.set("", current);
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const head = line.match(/^[[{]([^\]}]*)[\]}]$/);
    if (head) {
      const name = head[1]!.trim().toLowerCase();
      current = sections.get(name) ?? new Map();
      sections.set(name, current);
      continue;
    }
    const eq = line.indexOf("=");
    if (eq > 0) current.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return sections;
}

/** The first value of a key in any of the named sections (or any section when none is named). */
export function iniGet(ini: IniSections, key: string, sections?: string[]): string | undefined {
  const k = key.toLowerCase();
  for (const [name, values] of ini) {
    if (sections && !sections.includes(name)) continue;
    const v = values.get(k);
    if (v !== undefined && v !== "") return v;
  }
  return undefined;
}

/** Every key with its first non-empty value, whatever its section: the header as the metadata extractors read it. */
export function iniFields(ini: IniSections): Record<string, string> {
  const out: Record<string, string> = {};
  for (const values of ini.values()) for (const [k, v] of values) if (v !== "" && !(k in out)) out[k] = v;
  return out;
}
