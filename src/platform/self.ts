import { fileURLToPath } from "node:url";

/** How to start this program again: the executable itself when compiled, else bun on src/main.ts. */
export function selfCommand(): string[] {
  if (import.meta.url.includes("$bunfs")) return [process.execPath];
  return [process.execPath, fileURLToPath(new URL("../main.ts", import.meta.url))];
}
