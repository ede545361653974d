// Requests Node's HTTP parser refuses before an app sees them, sent over a raw socket, and the
// check that a server answers each as RFC 9457 problem details and closes the connection
// (`answerClientError` of @suite/process-shell, wired into the API and the BFF).
import assert from 'node:assert/strict';
import { connect } from 'node:net';

/** Sends the lines as one request and resolves with everything the server wrote until it closed. */
export function rawRequest(port: number, lines: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`${lines.join('\r\n')}\r\n\r\n`));
    let data = '';
    socket.on('data', (d) => { data += d.toString(); });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

/** A path the server routes (its refusals must not depend on it) and a POST path. */
export async function assertParserRefusalsAreProblems(port: number, path: string, postPath: string): Promise<void> {
  const cases = [
    { status: 431, lines: [`GET ${path} HTTP/1.1`, 'Host: localhost', `X-Filler: ${'a'.repeat(20_000)}`] },
    { status: 400, lines: [`GET ${path} HTTP/1.1`, 'Host: localhost', 'A header line without a colon'] },
    { status: 400, lines: [`G@T ${path} HTTP/1.1`, 'Host: localhost'] },
    { status: 400, lines: [`POST ${postPath} HTTP/1.1`, 'Host: localhost', 'Content-Length: 3', 'Transfer-Encoding: chunked', '', '0'] },
    { status: 400, lines: [`POST ${postPath} HTTP/1.1`, 'Host: localhost', 'Content-Length: abc'] },
  ];
  for (const c of cases) {
    const what = `${c.lines[0]} ${c.lines.at(-1)!.slice(0, 30)}`;
    const answer = await rawRequest(port, c.lines);
    const [head, body] = answer.split('\r\n\r\n');
    assert.match(head!, new RegExp(`^HTTP/1\\.1 ${c.status} `), what);
    assert.match(head!, /\r\ncontent-type: application\/problem\+json; charset=utf-8\r\n/i, what);
    assert.match(head!, /\r\nx-content-type-options: nosniff\r\n/i, what);
    assert.match(head!, /\r\ncache-control: no-store\r\n/i, what);
    assert.match(head!, /\r\nconnection: close(\r\n|$)/i, what);
    assert.deepEqual(Object.keys(JSON.parse(body!)), ['type', 'title', 'status', 'detail'], what);
    assert.equal(JSON.parse(body!).status, c.status, what);
  }
}
