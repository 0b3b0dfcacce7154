/** The version reported by `/api/v1/health` and `mata --version`. */
export const VERSION = "0.1.0";
