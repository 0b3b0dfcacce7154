// Files Bun embeds with `import x from "./f" with { type: "file" | "text" }`.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const path: string;
  export default path;
}
