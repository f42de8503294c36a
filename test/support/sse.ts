import { withAuth } from './auth';

// Server-sent events as a test reads them: a finished stream parsed whole, or an endless one read
// until what came is enough.
export interface SseEvent {
  id: string;
  event: string;
  data: string;
}

export interface OpenSse {
  until(enough: (events: SseEvent[]) => boolean): Promise<SseEvent[]>;
  close(): void;
}

export async function openSse(streamUrl: string, headers: Record<string, string> = {}): Promise<OpenSse> {
  const controller = new AbortController();
  const response = await fetch(streamUrl, { headers: withAuth(headers), signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  return {
    until: async (enough) => {
      while (!enough(parseSse(text))) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      return parseSse(text);
    },
    close: () => controller.abort(),
  };
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => {
      const fields = Object.fromEntries(
        block
          .split('\n')
          .filter((l) => l && !l.startsWith(':'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trimStart()]),
      );
      return fields as unknown as SseEvent;
    })
    .filter((e) => e.event);
}
