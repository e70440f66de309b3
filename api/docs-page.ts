// A human-readable page of the OpenAPI document (GET /api/v1/docs): every operation with its
// parameters and body schema. Plain HTML, no script, so the API's CSP stays strict.
type Operation = { summary: string; tags: string[]; parameters: { name: string; in: string; required: boolean }[]; requestBody?: unknown; responses: Record<string, unknown> };
type Document = { info: { title: string; description: string }; paths: Record<string, Record<string, Operation>> };

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

export const docsPage = (document: Document): string => {
  const sections = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => {
    const parameters = operation.parameters.map((parameter) => `${escapeHtml(parameter.name)} (${parameter.in}${parameter.required ? ', required' : ''})`).join(', ');
    const body = operation.requestBody
      ? `<details><summary>request body</summary><pre>${escapeHtml(JSON.stringify(Object.values((operation.requestBody as { content: Record<string, { schema: unknown }> }).content)[0]?.schema ?? {}, null, 2))}</pre></details>`
      : '';
    return `<section><h3><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h3><p>${escapeHtml(operation.summary)}</p>
      ${parameters ? `<p>Parameters: ${parameters}</p>` : ''}${body}<p>Responses: ${Object.keys(operation.responses).join(', ')}</p></section>`;
  }));
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}section{border-top:1px solid #ddd}pre{background:#f6f6f6;padding:.5rem;overflow:auto}</style>
</head><body><h1>${escapeHtml(document.info.title)}</h1><p>${escapeHtml(document.info.description)}</p>
<p>Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>. Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p>
${sections.join('\n')}</body></html>`;
};
