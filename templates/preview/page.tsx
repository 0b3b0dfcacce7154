import { Layout } from "../layout.tsx";
import type { Principal } from "../../src/context.ts";
import type { PreviewSummary, PreviewView } from "../../src/preview/preview.service.ts";
import { PreviewPanel } from "./viewer.tsx";

/** The viewer on a page of its own (more room than the dataset page's slot), linked from the dataset page. */
export function ViewerPage(p: { datasetId: number; title: string; summary: PreviewSummary; previews: PreviewView[]; user: Principal | null; csrf?: string }) {
  return (
    <Layout title={`Preview of ${p.title}`} user={p.user} csrf={p.csrf}>
      <p>
        <a href={`/datasets/${p.datasetId}`}>← {p.title}</a>
      </p>
      <PreviewPanel datasetId={p.datasetId} summary={p.summary} previews={p.previews} />
    </Layout>
  );
}
