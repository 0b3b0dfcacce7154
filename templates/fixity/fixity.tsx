import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import type { FixityView } from "../../src/fixity/fixity.service.ts";
import { formatBytes, formatCount, formatTime } from "../datasets/format.ts";

type Mismatch = FixityView["mismatches"][number];

/** The checksum pair of a mismatch, shortened for reading; the whole values are in the title and the API. */
function Sums(p: { m: Mismatch }) {
  return (
    <span title={`recorded ${p.m.expected}\nnow ${p.m.actual}`}>
      <code>{p.m.expected.slice(0, 12)}</code> → <code>{p.m.actual.slice(0, 12)}</code>
    </span>
  );
}

/** The fixity lines of a dataset page: how much is checksummed, when it was last verified, and what no longer matches. */
export function FixityFacts(p: { fixity: FixityView }) {
  const f = p.fixity;
  return (
    <>
      <dt>Fixity</dt>
      <dd data-fixity={f.mismatches.length ? "mismatch" : "ok"}>
        {formatCount(f.hashed)} of {formatCount(f.files)} files checksummed (SHA-256)
        {f.verifiedAt ? `; all verified ${formatTime(f.verifiedAt)} UTC` : "; not verified yet"}
      </dd>
      {f.mismatches.length ? (
        <>
          <dt>Changed content</dt>
          <dd class="error" role="alert">
            {f.mismatches.length} file{f.mismatches.length === 1 ? "" : "s"} changed while size and time did not (damaged or tampered with; restore from a
            backup):
            <ul class="fixity-mismatches">
              {f.mismatches.map((m) => (
                <li>
                  <code>{m.path}</code> ({formatBytes(m.size)}), found {formatTime(m.foundAt)} UTC: <Sums m={m} />
                </li>
              ))}
            </ul>
          </dd>
        </>
      ) : null}
    </>
  );
}

/** The admin page of files whose content changed under an unchanged size and mtime, across all datasets. */
export function FixityPage(p: { total: number; items: (Mismatch & { datasetId: number; datasetPath: string })[]; user: Principal | null; csrf?: string }) {
  return (
    <Layout title="Fixity" user={p.user} csrf={p.csrf}>
      <h1>Fixity</h1>
      <p>
        Every file's SHA-256 is recorded when its dataset settles and compared again on the schedule (<code>[fixity] every</code>). Listed here: files whose
        content changed while their size and modification time did not, which no program saving a file does. Restore them from a backup; they leave this list
        when they match again or are replaced.
      </p>
      {p.items.length === 0 ? (
        <p class="notice" data-fixity="ok">
          No mismatches.
        </p>
      ) : (
        <table class="jobs" data-fixity="mismatch">
          <caption>
            {formatCount(p.total)} file{p.total === 1 ? "" : "s"} with changed content{p.total > p.items.length ? ` (newest ${p.items.length} shown)` : ""}
          </caption>
          <thead>
            <tr>
              <th scope="col">Dataset</th>
              <th scope="col">File</th>
              <th scope="col">Size</th>
              <th scope="col">Found (UTC)</th>
              <th scope="col">Recorded → now</th>
            </tr>
          </thead>
          <tbody>
            {p.items.map((m) => (
              <tr>
                <td>
                  <a href={`/datasets/${m.datasetId}`}>{m.datasetPath}</a>
                </td>
                <td>
                  <code>{m.path}</code>
                </td>
                <td>{formatBytes(m.size)}</td>
                <td>{formatTime(m.foundAt)}</td>
                <td>
                  <Sums m={m} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
