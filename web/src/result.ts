/** A CallToolResult as the page shows it: text, images, resources, structured content, and the routing. */
import { h, json } from './dom.js';

interface ContentItem {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  uri?: string;
  name?: string;
  resource?: { uri?: string; mimeType?: string; text?: string; blob?: string };
}

interface Routing {
  target?: string;
  reason?: string;
  attempts?: Array<{ target?: string; error?: string }>;
}

const IMAGE = /^image\/(png|jpeg|gif|webp|svg\+xml)$/;

export function renderResult(
  data: { content?: ContentItem[]; structuredContent?: unknown; isError?: boolean },
  routing: Routing,
): HTMLElement {
  const items = (data.content ?? []).map((item) => {
    switch (item.type) {
      case 'text':
        return h('pre', { class: 'text' }, item.text ?? '');
      case 'image':
        return item.mimeType && IMAGE.test(item.mimeType) && item.data
          ? h('img', {
              src: `data:${item.mimeType};base64,${item.data}`,
              alt: `image result (${item.mimeType})`,
            })
          : h('p', {}, `image (${item.mimeType ?? 'unknown type'})`);
      case 'resource':
        return h(
          'div',
          { class: 'resource' },
          h(
            'div',
            {},
            'Resource ',
            h('code', {}, item.resource?.uri ?? ''),
            item.resource?.mimeType ? ` (${item.resource.mimeType})` : '',
          ),
          item.resource?.text !== undefined
            ? h('pre', {}, item.resource.text)
            : item.resource?.blob
              ? h('p', { class: 'muted' }, `${item.resource.blob.length} base64 characters`)
              : null,
        );
      case 'resource_link':
        return h(
          'div',
          { class: 'resource' },
          'Link ',
          h('code', {}, item.uri ?? ''),
          item.name ? ` — ${item.name}` : '',
        );
      default:
        return h('pre', {}, json(item));
    }
  });
  return h(
    'div',
    { class: `result ${data.isError ? 'is-error' : ''}`, 'data-testid': 'call-result' },
    h('h4', {}, data.isError ? 'Result (the tool reported an error)' : 'Result'),
    ...items,
    data.structuredContent !== undefined
      ? h(
          'details',
          { open: true },
          h('summary', {}, 'Structured content'),
          h('pre', {}, json(data.structuredContent)),
        )
      : null,
    h(
      'div',
      { class: 'routing', 'data-testid': 'routing' },
      h('h4', {}, 'Routing'),
      h(
        'dl',
        {},
        h('dt', {}, 'target'),
        h('dd', {}, routing.target ?? '—'),
        h('dt', {}, 'reason'),
        h('dd', {}, routing.reason ?? '—'),
      ),
      routing.attempts?.length
        ? h('ul', {}, ...routing.attempts.map((a) => h('li', {}, `${a.target ?? '?'}: ${a.error ?? 'ok'}`)))
        : null,
    ),
  );
}
