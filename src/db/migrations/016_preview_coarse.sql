-- A preview whose coarse levels are published while its full build still runs (src/preview/coarse.ts): its tiles are
-- served from the `<key>.coarse` folder until the full build replaces them.
ALTER TABLE previews ADD COLUMN coarse INTEGER NOT NULL DEFAULT 0;
