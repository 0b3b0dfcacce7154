import type { ExtractionView } from "../../src/extract/extract.service.ts";
import { formatTime } from "../datasets/format.ts";

/** The extraction lines of a dataset page: personal data its DICOM files carry (by attribute), and failed extractors. */
export function ExtractionFacts(p: { extraction: ExtractionView }) {
  const e = p.extraction;
  return (
    <>
      {e.identifiers.length ? (
        <>
          <dt>Personal data</dt>
          <dd class="error" data-privacy="identifiers">
            Its DICOM files carry identifying attributes: {e.identifiers.join(", ")}. They were not copied into tags; de-identify the files before sharing them.
          </dd>
        </>
      ) : null}
      {e.failures.map((f) => (
        <>
          <dt>Metadata problem</dt>
          <dd class="error" data-extract-failure={f.source}>
            {f.source}: {f.message} ({formatTime(f.at)} UTC)
          </dd>
        </>
      ))}
    </>
  );
}
