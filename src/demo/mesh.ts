// A vessel-like surface: a closed tube of varying radius along a curved centre line, as a binary STL.

type Vec = [number, number, number];

const sub = (a: Vec, b: Vec): Vec => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const cross = (a: Vec, b: Vec): Vec => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const unit = (a: Vec): Vec => {
  const l = Math.hypot(...a) || 1;
  return [a[0] / l, a[1] / l, a[2] / l];
};

/** Triangles (three vertices each, outward winding) of a capped tube; sizes in millimetres. */
export function vesselTriangles(segments = 96, around = 24): Vec[][] {
  const centre = (t: number): Vec => [20 * Math.sin(t * Math.PI), 8 * Math.sin(t * 3 * Math.PI), 60 * t];
  const radius = (t: number) => 3 + 1.2 * Math.sin(t * 5 * Math.PI) + (t > 0.45 && t < 0.6 ? 1.5 : 0);
  const rings: Vec[][] = [];
  for (let s = 0; s <= segments; s++) {
    const t = s / segments;
    const p = centre(t);
    const tangent = unit(sub(centre(Math.min(1, t + 1e-3)), centre(Math.max(0, t - 1e-3))));
    const n1 = unit(cross(tangent, [1, 0, 0]));
    const n2 = cross(tangent, n1);
    const r = radius(t);
    const ring: Vec[] = [];
    for (let a = 0; a < around; a++) {
      const phi = (a / around) * 2 * Math.PI;
      ring.push([
        p[0] + r * (Math.cos(phi) * n1[0] + Math.sin(phi) * n2[0]),
        p[1] + r * (Math.cos(phi) * n1[1] + Math.sin(phi) * n2[1]),
        p[2] + r * (Math.cos(phi) * n1[2] + Math.sin(phi) * n2[2]),
      ]);
    }
    rings.push(ring);
  }
  const tris: Vec[][] = [];
  for (let s = 0; s < segments; s++) {
    for (let a = 0; a < around; a++) {
      const b = (a + 1) % around;
      const [p00, p01, p10, p11] = [rings[s]![a]!, rings[s]![b]!, rings[s + 1]![a]!, rings[s + 1]![b]!];
      tris.push([p00, p01, p11], [p00, p11, p10]);
    }
  }
  // End caps: fans around each end's centre point.
  const first = centre(0);
  const last = centre(1);
  for (let a = 0; a < around; a++) {
    const b = (a + 1) % around;
    tris.push([first, rings[0]![b]!, rings[0]![a]!]);
    tris.push([last, rings[segments]![a]!, rings[segments]![b]!]);
  }
  return tris;
}

/** Binary STL: 80-byte header, triangle count, then normal + 3 vertices + attribute per triangle (50 B each). */
export function encodeBinaryStl(tris: Vec[][], header = "mata demo vessel surface"): Uint8Array {
  const out = new Uint8Array(84 + tris.length * 50);
  const v = new DataView(out.buffer);
  out.set(new TextEncoder().encode(header.slice(0, 80)), 0);
  v.setUint32(80, tris.length, true);
  tris.forEach((t, i) => {
    const at = 84 + i * 50;
    const n = unit(cross(sub(t[1]!, t[0]!), sub(t[2]!, t[0]!)));
    [n, t[0]!, t[1]!, t[2]!].forEach((p, k) => p.forEach((c, j) => v.setFloat32(at + k * 12 + j * 4, c, true)));
    v.setUint16(at + 48, 0, true);
  });
  return out;
}
