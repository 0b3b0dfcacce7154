// How file names that are not valid UTF-8 are stored.
//
// Linux names are bytes; the database, the API and the web speak Unicode. A name that is valid UTF-8 and
// does not contain U+FFFD is stored as is (the common case, and its stored path opens the file directly).
// Otherwise the name is escaped with U+FFFD (the replacement character) as the escape character:
// each byte that is not part of a valid UTF-8 sequence becomes U+FFFD followed by two upper-case hex digits,
// and a literal U+FFFD becomes U+FFFD followed by "~". This is a bijection, so two different names never
// collide, the stored name still shows where the bad bytes were, and `nameToBytes` gives back the exact bytes.

const ESC = "\uFFFD";
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Turns a name read as bytes into the string stored in the database (see the file comment). */
export function bytesToName(bytes: Uint8Array): string {
  let text: string | undefined;
  try {
    text = decoder.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined && !text.includes(ESC)) return text;
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const len = validSequenceLength(bytes, i);
    if (len === 0) {
      out += ESC + bytes[i]!.toString(16).toUpperCase().padStart(2, "0");
      i += 1;
      continue;
    }
    const ch = Buffer.from(bytes.subarray(i, i + len)).toString("utf8");
    out += ch === ESC ? ESC + "~" : ch;
    i += len;
  }
  return out;
}

/** True when a stored name needs its bytes back to open it (it holds an escape). */
export function isEscapedName(name: string): boolean {
  return name.includes(ESC);
}

/** The exact bytes of a stored name or relative path (the inverse of `bytesToName`). */
export function nameToBytes(name: string): Buffer {
  if (!name.includes(ESC)) return Buffer.from(name, "utf8");
  const parts: Buffer[] = [];
  let i = 0;
  while (i < name.length) {
    const at = name.indexOf(ESC, i);
    if (at < 0) {
      parts.push(Buffer.from(name.slice(i), "utf8"));
      break;
    }
    parts.push(Buffer.from(name.slice(i, at), "utf8"));
    if (name[at + 1] === "~") {
      parts.push(Buffer.from(ESC, "utf8"));
      i = at + 2;
    } else {
      const hex = name.slice(at + 1, at + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) throw new Error(`malformed escaped name ${JSON.stringify(name)}`);
      parts.push(Buffer.from([parseInt(hex, 16)]));
      i = at + 3;
    }
  }
  return Buffer.concat(parts);
}

/** A path the fs module can open for `base` joined with a stored relative path: a string when possible. */
export function fsPath(base: string | Buffer, relative: string): string | Buffer {
  if (relative === "") return base;
  if (typeof base === "string" && !isEscapedName(relative)) return `${base}/${relative}`;
  return Buffer.concat([Buffer.from(base), Buffer.from("/"), nameToBytes(relative)]);
}

/**
 * The stored form of a path given as text (the configured root): the text itself, unless it holds a literal U+FFFD,
 * which is escaped like any name, so `${storedPath(root)}/${dataset path}` is one path in stored form throughout.
 */
export function storedPath(text: string): string {
  return isEscapedName(text) ? bytesToName(Buffer.from(text, "utf8")) : text;
}

/**
 * A path the fs module can open for a whole path in stored form (see `storedPath`): readers and jobs pass stored
 * paths around as text (through JSON to child processes too) and turn them into bytes only where they open a file.
 */
export function openablePath(stored: string): string | Buffer {
  return isEscapedName(stored) ? nameToBytes(stored) : stored;
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 when the byte there starts none. */
function validSequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k]! & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 > 0x9f) return 0; // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1]!;
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 > 0x8f) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}
