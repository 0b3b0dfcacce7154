/** Most parents one dataset may name (a fusion of a handful of scans is the realistic case). */
export const MAX_PARENTS = 100;
