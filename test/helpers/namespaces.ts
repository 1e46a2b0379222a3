/**
 * Creates a namespace on a running server through its HTTP API (POST /api/v1/namespaces), as a
 * user would before using it; fails the test with the server's answer otherwise.
 *
 * @example
 * await createNamespace(server.url, 'billing');
 */
export async function createNamespace(url: string, name: string, options: { token?: string; retention?: string | number; description?: string } = {}): Promise<void> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${url}/api/v1/namespaces`, {
    method: 'POST', headers, body: JSON.stringify({ name, retention: options.retention, description: options.description }),
  });
  if (response.status !== 201) throw new Error(`creating namespace "${name}" answered ${response.status}: ${await response.text()}`);
}
