// The limits a tag tree must respect, in one place so the API, the editor and the messages agree.

/** Longest key, in characters: keys are names, not prose. */
export const MAX_KEY_LENGTH = 200;
/** Longest value, in characters (4 KB of text is plenty for a note; larger belongs in a file). */
export const MAX_VALUE_LENGTH = 4096;
/** Most tags (at every level) on one dataset, so a page and its editor stay fast. */
export const MAX_TAGS = 2000;
/** Deepest nesting ("Imaging" > "Scan settings" > "Projections" is depth 3). */
export const MAX_DEPTH = 8;
/** Longest title, in characters. */
export const MAX_TITLE_LENGTH = 300;
/** Longest description, in characters. */
export const MAX_DESCRIPTION_LENGTH = 20_000;
