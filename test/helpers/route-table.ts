/**
 * The routes a fastify server holds, read from its own router's listing
 * (`printRoutes({ commonPrefix: false })`: a tree, four columns per level, each node a
 * piece of the path with its methods in brackets), as `METHOD /path` with `{param}`s.
 */
export function routesOfTable(table: string): string[] {
  const routes: string[] = [];
  const stack: string[] = [];
  for (const line of table.split("\n")) {
    const m = /^([│├└─ ]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m?.[2]) continue;
    const depth = (m[1] ?? "").length / 4;
    stack.length = depth;
    stack.push(m[2]);
    const path = stack.join("").replace(/:([A-Za-z0-9_]+)/g, "{$1}");
    for (const method of (m[3] ?? "").split(", ").filter(Boolean)) routes.push(`${method} ${path}`);
  }
  return routes.sort();
}

/** Every operation an OpenAPI document describes, as `METHOD /path`. */
export function operationsOf(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}
