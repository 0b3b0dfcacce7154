/** A tag as the API, the sidecar mirror and the editor see it: an ordered tree of key-value pairs. */
export interface TagNode {
  key: string;
  value: string;
  children: TagNode[];
}
