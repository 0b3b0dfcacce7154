// Every migration is embedded in the executable; the runner applies those not yet applied, by name order.
import m001 from "./001_core.sql" with { type: "text" };
import m002 from "./002_sync.sql" with { type: "text" };
import m003 from "./003_auth.sql" with { type: "text" };
import m004 from "./004_search.sql" with { type: "text" };
import m005 from "./005_access.sql" with { type: "text" };
import m006 from "./006_previews.sql" with { type: "text" };
import m007 from "./007_metadata.sql" with { type: "text" };
import m008 from "./008_mesh_previews.sql" with { type: "text" };
import m009 from "./009_cloud_index.sql" with { type: "text" };
import m010 from "./010_change_outbox.sql" with { type: "text" };
import m011 from "./011_preview_inputs.sql" with { type: "text" };
import m012 from "./012_file_scale.sql" with { type: "text" };
import m013 from "./013_fixity.sql" with { type: "text" };
import m014 from "./014_audit.sql" with { type: "text" };
import m015 from "./015_extract.sql" with { type: "text" };
import m016 from "./016_preview_coarse.sql" with { type: "text" };

/** The numbered schema migrations, embedded as text. */
export const MIGRATIONS: { name: string; sql: string }[] = [
  { name: "001_core", sql: m001 },
  { name: "002_sync", sql: m002 },
  { name: "003_auth", sql: m003 },
  { name: "004_search", sql: m004 },
  { name: "005_access", sql: m005 },
  { name: "006_previews", sql: m006 },
  { name: "007_metadata", sql: m007 },
  { name: "008_mesh_previews", sql: m008 },
  { name: "009_cloud_index", sql: m009 },
  { name: "010_change_outbox", sql: m010 },
  { name: "011_preview_inputs", sql: m011 },
  { name: "012_file_scale", sql: m012 },
  { name: "013_fixity", sql: m013 },
  { name: "014_audit", sql: m014 },
  { name: "015_extract", sql: m015 },
  { name: "016_preview_coarse", sql: m016 },
];
