// Tells the runtime types which module is the Worker's entry point, so `exports` from
// "cloudflare:workers" is typed (wrangler types leaves mainModule out for this project).
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("./index.ts");
  }
}
