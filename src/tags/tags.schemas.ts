// Tag trees as the API reads and writes them.
import { z } from "zod";
import type { TagNode } from "./tag.types.ts";
import { MAX_TAGS } from "./tag-limits.ts";

/** A tag in answers: key, value and ordered children. */
export const Tag: z.ZodType<TagNode> = z
  .object({
    key: z.string(),
    value: z.string(),
    get children() {
      return z.array(Tag);
    },
  })
  .meta({ id: "Tag", description: "A key-value pair with ordered children" });

/** A tag in a request: children may be left out; keys and values are trimmed and checked against the limits by the service. */
export interface TagInputNode {
  key: string;
  value?: string | null;
  children?: TagInputNode[] | null;
}
export const TagInput: z.ZodType<TagInputNode> = z
  .object({
    key: z.string({ error: "must be text" }),
    value: z.string({ error: "must be text" }).nullish(),
    get children() {
      return z.array(TagInput).nullish();
    },
  })
  .meta({ id: "TagInput" });

/** The tag tree with the version the next change must name. */
export const VersionedTags = z
  .object({
    tags: z.array(Tag),
    tagsVersion: z.number().int().meta({ description: "Send back as `version` to refuse (409) a change based on an outdated tree" }),
  })
  .meta({ id: "VersionedTags" });

/** The body of a whole-tree replacement. */
export const TagsBody = z.object({
  tags: z
    .array(TagInput, { error: "must be a list of { key, value, children } objects" })
    .meta({ description: `At most ${MAX_TAGS} tags in all, nested at most 8 levels` }),
  version: z.number().int().min(1).optional(),
});
