/**
 * A form from a tool's JSON Schema: strings, numbers, integers, booleans and enums get their own
 * controls; objects, arrays and anything else are JSON in a textarea. `read()` gives the arguments
 * or throws with the field that is wrong.
 */
import { h } from './dom.js';

interface PropertySchema {
  type?: string | string[];
  enum?: unknown[];
  description?: string;
  default?: unknown;
  title?: string;
}

interface Field {
  name: string;
  required: boolean;
  read(): { set: boolean; value?: unknown };
}

let counter = 0;

export function schemaForm(schema: unknown): { el: HTMLElement; read(): Record<string, unknown> } {
  const s = (schema ?? {}) as { properties?: Record<string, PropertySchema>; required?: string[] };
  const required = new Set(s.required ?? []);
  const fields: Field[] = [];
  const el = h('div', { class: 'fields' });
  const properties = Object.entries(s.properties ?? {});
  if (properties.length === 0) el.append(h('p', { class: 'muted' }, 'This tool takes no arguments.'));
  for (const [name, prop] of properties) {
    const id = `arg-${++counter}`;
    const hintId = `${id}-hint`;
    const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
    const isRequired = required.has(name);
    const label = h(
      'label',
      { for: id },
      name,
      isRequired ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null,
      type ? h('span', { class: 'muted' }, ` (${type})`) : null,
    );
    const hint = prop.description ? h('div', { class: 'hint', id: hintId }, prop.description) : null;
    const common = {
      id,
      name,
      ...(hint && { 'aria-describedby': hintId }),
      ...(isRequired && { 'aria-required': 'true' }),
    };
    let control: HTMLElement;
    let read: Field['read'];
    if (prop.enum) {
      const select = h(
        'select',
        common,
        isRequired ? null : h('option', { value: '' }, '(none)'),
        ...prop.enum.map((v, i) => h('option', { value: String(i) }, JSON.stringify(v))),
      );
      read = () =>
        select.value === '' ? { set: false } : { set: true, value: prop.enum![Number(select.value)] };
      control = select;
    } else if (type === 'boolean') {
      const box = h('input', {
        ...common,
        type: 'checkbox',
        ...(prop.default === true && { checked: true }),
      });
      read = () => ({ set: true, value: box.checked });
      control = box;
    } else if (type === 'number' || type === 'integer') {
      const input = h('input', {
        ...common,
        type: 'number',
        step: type === 'integer' ? '1' : 'any',
        ...(typeof prop.default === 'number' && { placeholder: String(prop.default) }),
      });
      read = () => {
        if (input.value === '') return { set: false };
        const value = Number(input.value);
        if (!Number.isFinite(value) || (type === 'integer' && !Number.isInteger(value)))
          throw new Error(`${name}: not ${type === 'integer' ? 'an integer' : 'a number'}`);
        return { set: true, value };
      };
      control = input;
    } else if (type === 'string') {
      const input = h('input', {
        ...common,
        type: 'text',
        autocomplete: 'off',
        ...(typeof prop.default === 'string' && { placeholder: prop.default }),
      });
      read = () => (input.value === '' && !isRequired ? { set: false } : { set: true, value: input.value });
      control = input;
    } else {
      const area = h('textarea', {
        ...common,
        rows: 3,
        spellcheck: 'false',
        placeholder: type === 'array' ? '[ ]' : '{ }',
      });
      read = () => {
        if (area.value.trim() === '') return { set: false };
        try {
          return { set: true, value: JSON.parse(area.value) as unknown };
        } catch {
          throw new Error(`${name}: not valid JSON`);
        }
      };
      control = area;
    }
    fields.push({ name, required: isRequired, read });
    el.append(h('div', { class: `field ${type === 'boolean' ? 'inline' : ''}` }, label, control, hint));
  }
  return {
    el,
    read() {
      const args: Record<string, unknown> = {};
      for (const field of fields) {
        const { set, value } = field.read();
        if (set) args[field.name] = value;
        else if (field.required) throw new Error(`${field.name} is required`);
      }
      return args;
    },
  };
}
