// Newline-delimited messages between Mata and its child processes (tiler, fixity hasher).

/** The lines of a byte stream as they arrive (without their newline; a last line without one included). */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = text.indexOf("\n")) >= 0) {
      yield text.slice(0, nl);
      text = text.slice(nl + 1);
    }
  }
  text += decoder.decode();
  if (text) yield text;
}
