// Appliance templates Bun embeds with `import x from "./f.tmpl" with { type: "text" }`.
declare module "*.tmpl" {
  const text: string;
  export default text;
}
