import { expect, test } from "bun:test";
import { detectVolumes } from "../../src/preview/readers/index.ts";

/**
 * Cross-checks our readers against the reference Python readers Debian ships beside the sample files
 * (nibabel for NIfTI, pydicom for DICOM; Debian's own python3, where python3-nibabel/pydicom live): per-slice
 * sums and a probe voxel of the stored values.
 */
const SCRIPT = String.raw`
import json, sys
import numpy as np
import nibabel, pydicom
out = {}
def slices(arr):
    return [int(np.asarray(arr[:, :, z], dtype=np.int64).sum()) for z in range(arr.shape[2])]
for path in sys.argv[1:]:
    if path.endswith((".nii", ".nii.gz")):
        img = nibabel.load(path)
        arr = np.asarray(img.dataobj.get_unscaled())
        if arr.ndim == 4: arr = arr[..., 0]
        out[path] = {"shape": list(arr.shape[:3]), "sums": slices(arr), "probe": int(arr[3, 5, arr.shape[2] // 2])}
    else:
        px = pydicom.dcmread(path).pixel_array
        out[path] = {"shape": [int(px.shape[1]), int(px.shape[0]), 1], "sums": [int(px.astype(np.int64).sum())], "probe": int(px[5, 3])}
print(json.dumps(out))
`;

const FILES: [string, string][] = [
  ["/usr/lib/python3/dist-packages/nibabel/tests/data", "anatomical.nii"],
  ["/usr/lib/python3/dist-packages/nibabel/tests/data", "example4d.nii.gz"],
  ["/usr/share/doc/insighttoolkit5-examples/examples/Data", "KmeansTest_T1UCharRaw.nii.gz"],
  ["/usr/lib/python3/dist-packages/pydicom/data/test_files", "CT_small.dcm"],
  ["/usr/lib/python3/dist-packages/pydicom/data/test_files", "MR_small_bigendian.dcm"],
  ["/usr/lib/python3/dist-packages/pydicom/data/test_files", "MR_small_implicit.dcm"],
];

test("NIfTI and DICOM samples match nibabel and pydicom (every slice sum and a probe voxel)", async () => {
  const proc = Bun.spawnSync(["/usr/bin/python3", "-c", SCRIPT, ...FILES.map(([d, f]) => `${d}/${f}`)], { stderr: "pipe" });
  if (proc.exitCode !== 0) throw new Error(`reference readers failed: ${proc.stderr.toString()}`);
  const ref = JSON.parse(proc.stdout.toString()) as Record<string, { shape: number[]; sums: number[]; probe: number }>;
  for (const [dir, file] of FILES) {
    const want = ref[`${dir}/${file}`]!;
    const [src] = await detectVolumes(dir, [file]);
    expect([src!.width, src!.height, src!.depth]).toEqual(want.shape);
    const sums: number[] = [];
    let probe = NaN;
    for (let z = 0; z < src!.depth; z++) {
      const s = await src!.readSlice(z);
      let sum = 0;
      for (let i = 0; i < s.length; i++) sum += s[i] as number;
      sums.push(sum);
      const isNifti = file.includes(".nii");
      if (isNifti && z === Math.floor(src!.depth / 2)) probe = s[5 * src!.width + 3] as number;
      if (!isNifti) probe = s[5 * src!.width + 3] as number;
    }
    expect({ file, sums, probe }).toEqual({ file, sums: want.sums, probe: want.probe });
    await src!.close();
  }
}, 30_000);
