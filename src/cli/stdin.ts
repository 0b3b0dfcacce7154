// The CLI's one reader of stdin, so commands that take a password from it behave alike.

/** Reads the first line of stdin (a password, so it never appears in argv or shell history); prompts on a terminal. */
export async function readLineFromStdin(prompt = "Password: "): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write(prompt);
  for await (const line of console) return line.replace(/\r$/, "");
  return "";
}
