// Titles, descriptions, tags and provenance of the demo datasets, keyed by folder name; the lead applies
// them once the scanner has found the folders, so the demo shows search, tags and the relation graph.
import type { TagNode } from "../tags/tag.types.ts";

/** What one demo dataset should carry; `parents` are folder names of other demo datasets. */
export interface DemoDatasetMetadata {
  title: string;
  description: string;
  tags: TagNode[];
  parents: string[];
}

const t = (key: string, value: string, ...children: TagNode[]): TagNode => ({ key, value, children });

/** The demo datasets by folder name, in the order they were derived (parents before children). */
export const DEMO_METADATA: Record<string, DemoDatasetMetadata> = {
  "lung-biopsy-CT-001": {
    title: "Lung biopsy, micro-CT",
    description:
      "Micro-CT of a formalin-fixed lung biopsy core in a plastic sample tube, 64 slices of 256 x 256 at 12.5 µm, 16-bit. " +
      "Three dense nodules stand out against the alveolar tissue. Synthetic demo data with the layout of a real scan.",
    tags: [
      t("Patient", "", t("Species", "human"), t("ID", "P-0147"), t("Sex", "female")),
      t("Sample", "", t("Organ", "lung"), t("Preparation", "formalin-fixed")),
      t("Modality", "micro-CT", t("Voxel size", "12.5 µm"), t("Tube voltage", "50 kV")),
      t("Project", "Lung biopsy atlas"),
    ],
    parents: [],
  },
  "lung-biopsy-CT-001-segmentation": {
    title: "Lung biopsy, nodule segmentation",
    description: "Label stack derived from the lung biopsy micro-CT: 0 air and holder, 1 tissue, 2 nodule. 8-bit, same grid as the scan.",
    tags: [
      t("Patient", "", t("Species", "human"), t("ID", "P-0147")),
      t("Derived", "segmentation", t("Method", "threshold + manual correction"), t("Labels", "0 air, 1 tissue, 2 nodule")),
      t("Project", "Lung biopsy atlas"),
    ],
    parents: ["lung-biopsy-CT-001"],
  },
  "lung-biopsy-histology-001": {
    title: "Lung biopsy, H&E section",
    description: "Haematoxylin and eosin stained section of the same biopsy core, imaged after the micro-CT scan at 0.5 µm per pixel.",
    tags: [
      t("Patient", "", t("Species", "human"), t("ID", "P-0147")),
      t("Modality", "light microscopy", t("Stain", "H&E"), t("Pixel size", "0.5 µm")),
      t("Project", "Lung biopsy atlas"),
    ],
    parents: ["lung-biopsy-CT-001"],
  },
  "vessel-surface-001": {
    title: "Pulmonary vessel surface mesh",
    description: "Surface mesh of a small pulmonary vessel with a local dilation, extracted from the biopsy segmentation (binary STL, millimetres).",
    tags: [t("Patient", "", t("Species", "human"), t("ID", "P-0147")), t("Derived", "surface mesh", t("Format", "STL")), t("Project", "Lung biopsy atlas")],
    parents: ["lung-biopsy-CT-001-segmentation"],
  },
  "sheep-knee-CT-002": {
    title: "Sheep knee joint, micro-CT",
    description: "Micro-CT of an ovine knee joint (femoral condyles and tibial plateau) at 80 µm isotropic, 16-bit MetaImage volume.",
    tags: [
      t("Patient", "", t("Species", "sheep"), t("ID", "S-002")),
      t("Sample", "", t("Organ", "knee joint"), t("Side", "left")),
      t("Modality", "micro-CT", t("Voxel size", "80 µm")),
      t("Project", "Ovine osteoarthritis model"),
    ],
    parents: [],
  },
};
