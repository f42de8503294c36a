import WebSocket from 'ws';
import { eventually } from '@spindle/testing';
import { AUTH } from '../support/auth';
import { http } from '../support/http';
import { spindleSuite } from '../support/spindle-suite';

// Long-lived answers are counted (StreamSlots): per API key on a listener (429) and per listener
// (503), SSE, followed logs and Mist's WebSockets alike; a closed stream gives its slot back.
describe('limits on open streams', () => {
  const suite = spindleSuite({
    name: 'stream-limits',
    env: { SPINDLE_MAX_STREAMS_PER_KEY: '2', SPINDLE_MAX_STREAMS_PER_LISTENER: '3' },
  });
  const opened: AbortController[] = [];
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    opened.splice(0).forEach((c) => c.abort());
    sockets.splice(0).forEach((s) => s.close());
  });

  const openSse = async (headers: Record<string, string>) => {
    const controller = new AbortController();
    const response = await fetch(`${suite.url}/api/v1/events`, { headers, signal: controller.signal });
    if (response.status === 200) {
      opened.push(controller);
      return { status: response.status, detail: '' };
    }
    return { status: response.status, detail: String(JSON.parse(await response.text()).detail) };
  };
  const keyWithRead = async (name: string) => {
    const created = await http(suite.url, 'POST', '/api/v1/keys', { name, scopes: ['read'] });
    return { authorization: `Bearer ${created.body.key}` };
  };

  it('answers 429 naming the limit to a key past its streams, and takes it again once one closes', async () => {
    const key = await keyWithRead('two-streams');
    expect((await openSse(key)).status).toBe(200);
    expect((await openSse(key)).status).toBe(200);
    const refused = await openSse(key);
    expect(refused.status).toBe(429);
    expect(refused.detail).toContain('SPINDLE_MAX_STREAMS_PER_KEY');
    opened.shift()!.abort();
    await eventually(
      async () => ((await openSse(key)).status === 200 ? true : undefined),
      15_000,
      'a slot back',
    );
  });

  it('answers 503 naming the limit once the listener holds its most, whoever asks', async () => {
    const [a, b] = [await keyWithRead('a'), await keyWithRead('b')];
    expect((await openSse(a)).status).toBe(200);
    expect((await openSse(a)).status).toBe(200);
    expect((await openSse(b)).status).toBe(200);
    const refused = await openSse(AUTH);
    expect(refused.status).toBe(503);
    expect(refused.detail).toContain('SPINDLE_MAX_STREAMS_PER_LISTENER');
  });

  // On the gateway's own path: Mist's port forwards WebSockets through a proxy that accepts the
  // client's socket before it asks upstream, so a refusal there shows as a socket closed at once.
  it("counts Mist's WebSockets too, refusing the upgrade with the limit named", async () => {
    const url = `${suite.url.replace('http', 'ws')}/compat/mist/v2/api/ws/all`;
    const connect = () =>
      new Promise<{ socket?: WebSocket; status?: number; text?: string }>((resolve) => {
        const socket = new WebSocket(url, { headers: AUTH });
        socket.once('open', () => {
          sockets.push(socket);
          resolve({ socket });
        });
        socket.once('unexpected-response', (_request, response) => {
          let text = '';
          response.on('data', (d: Buffer) => (text += d.toString()));
          response.on('end', () => resolve({ status: response.statusCode, text }));
        });
      });
    expect((await connect()).socket).toBeDefined();
    expect((await connect()).socket).toBeDefined();
    const refused = await connect();
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('SPINDLE_MAX_STREAMS_PER_KEY');
  });
});
