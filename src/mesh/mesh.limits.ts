// The caps of a mesh preview (config `max_triangles`, `max_vertices`), checked before buffers grow: files are untrusted.
import type { PreviewLimits } from "../config.ts";
import { PreviewLimitError } from "../errors.ts";

const fmt = (n: number) => n.toLocaleString("en-US");

/** Refuses a mesh claiming more triangles than `max_triangles` (from a binary STL's header, or counted while streaming). */
export function checkTriangles(file: string, triangles: number, limits: PreviewLimits, counted = false): void {
  if (triangles > limits.maxTriangles)
    throw new PreviewLimitError(
      `${file}: ${counted ? "more than " : ""}${fmt(counted ? limits.maxTriangles : triangles)} triangles is over the limit max_triangles = ${fmt(limits.maxTriangles)}; no preview is built`,
    );
}

/** Refuses a mesh with more vertices than `max_vertices` (stored in an OBJ, or after welding). */
export function checkVertices(file: string, vertices: number, limits: PreviewLimits): void {
  if (vertices > limits.maxVertices)
    throw new PreviewLimitError(
      `${file}: more than ${fmt(limits.maxVertices)} vertices is over the limit max_vertices = ${fmt(limits.maxVertices)}; no preview is built`,
    );
}

/** Refuses a header (PLY) declaring more vertices or faces than the caps allow, before anything is allocated for them. */
export function checkDeclared(file: string, what: "vertices" | "faces", count: number, limits: PreviewLimits): void {
  const [cap, setting] = what === "vertices" ? [limits.maxVertices, "max_vertices"] : [limits.maxTriangles, "max_triangles"];
  if (count > cap)
    throw new PreviewLimitError(`${file}: the header declares ${fmt(count)} ${what}, over the limit ${setting} = ${fmt(cap)}; no preview is built`);
}
