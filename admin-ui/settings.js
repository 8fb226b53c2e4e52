// Settings: DSS's General, Port and Log settings over the running config. Save sends only the
// keys the operator changed (PATCH /api/v1/config) and says what applied at once, what waits for
// a restart, and whether the config file was written; a refused value is shown at its field.
import { api, ApiFailure, bytes, failureText, fill, h, notice, updateResult } from './lib.js';

export const title = 'Settings';

/**
 * A setting on the form. `kind`: text, int, number, bool, ports (a list of ports), choice, kb
 * (bytes shown and typed in KB).
 * @typedef {{ key: string, label: string, kind: 'text' | 'int' | 'number' | 'bool' | 'ports' | 'choice' | 'kb', hint?: string, choices?: [string | number, string][], min?: number }} Setting
 */

/** @type {{ title: string, id: string, settings: Setting[] }[]} */
const GROUPS = [
  {
    title: 'General',
    id: 'general',
    settings: [
      {
        key: 'media.dir',
        label: 'Media folder',
        kind: 'text',
        hint: 'Files below it are served; relative to the config file.',
      },
      {
        key: 'limits.maxConnections',
        label: 'Maximum connections',
        kind: 'int',
        min: 0,
        hint: '0: no limit. Over it a new viewer gets 453 Not Enough Bandwidth.',
      },
      {
        key: 'limits.maxBandwidthKbps',
        label: 'Maximum throughput (kbit/s)',
        kind: 'number',
        min: 0,
        hint: '0: no limit. Summed over every playing session.',
      },
      {
        key: 'auth.scheme',
        label: 'Authentication scheme',
        kind: 'choice',
        choices: [
          ['digest', 'Digest'],
          ['basic', 'Basic'],
          ['none', 'None (refuse what needs a login)'],
        ],
        hint: 'The challenge players get for protected folders; a qtaccess AuthScheme overrides it.',
      },
      { key: 'auth.realm', label: 'Realm', kind: 'text' },
    ],
  },
  {
    title: 'Ports',
    id: 'ports',
    settings: [
      {
        key: 'rtsp.ports',
        label: 'RTSP ports',
        kind: 'ports',
        hint: 'Comma-separated, e.g. 554, 7070, 8554.',
      },
      {
        key: 'rtsp.httpPorts',
        label: 'HTTP streaming ports',
        kind: 'ports',
        hint: 'RTSP over HTTP tunnelling (QuickTime) on these ports too; empty for none.',
      },
    ],
  },
  {
    title: 'Logging',
    id: 'logging',
    settings: [
      { key: 'logs.access', label: 'Access log (StreamingServer.log)', kind: 'bool' },
      {
        key: 'logs.accessRollDays',
        label: 'Roll the access log every (days)',
        kind: 'int',
        min: 0,
        hint: '0: never by age.',
      },
      {
        key: 'logs.accessRollSize',
        label: 'Roll the access log at (KB)',
        kind: 'kb',
        min: 0,
        hint: '0: never by size.',
      },
      { key: 'logs.error', label: 'Error log (Error.log)', kind: 'bool' },
      {
        key: 'logs.errorRollDays',
        label: 'Roll the error log every (days)',
        kind: 'int',
        min: 0,
        hint: '0: never by age.',
      },
      {
        key: 'logs.errorRollSize',
        label: 'Roll the error log at (KB)',
        kind: 'kb',
        min: 0,
        hint: '0: never by size.',
      },
      {
        key: 'logs.errorVerbosity',
        label: 'Error log verbosity',
        kind: 'choice',
        choices: [
          [0, '0 – fatal only'],
          [1, '1 – and warnings'],
          [2, '2 – and information'],
          [3, '3 – and assertions'],
          [4, '4 – and debugging'],
        ],
      },
    ],
  },
];

const get = (config, key) => key.split('.').reduce((o, k) => (o == null ? undefined : o[k]), config);
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const idOf = (key) => `s-${key.replace(/\./g, '-')}`;

/** The value a field holds, as the config types it; throws a message for one that cannot be. */
function read(s, input) {
  const v = input.value.trim();
  switch (s.kind) {
    case 'bool':
      return input.checked;
    case 'int':
    case 'number':
    case 'kb': {
      if (v === '' || !Number.isFinite(Number(v))) throw new Error('must be a number');
      const n = s.kind === 'kb' ? Math.round(Number(v) * 1024) : Number(v);
      if (s.kind === 'int' && !Number.isInteger(n)) throw new Error('must be a whole number');
      return n;
    }
    case 'ports': {
      if (v === '') return [];
      const list = v
        .split(/[\s,]+/)
        .filter(Boolean)
        .map(Number);
      if (list.some((p) => !Number.isInteger(p) || p < 0 || p > 65535))
        throw new Error('must be port numbers (0–65535) separated by commas');
      return list;
    }
    case 'choice':
      return typeof s.choices[0][0] === 'number' ? Number(v) : v;
    default:
      return input.value;
  }
}

function show(s, input, value) {
  if (s.kind === 'bool') input.checked = Boolean(value);
  else if (s.kind === 'ports') input.value = Array.isArray(value) ? value.join(', ') : '';
  else if (s.kind === 'kb') input.value = value === undefined ? '' : String(value / 1024);
  else input.value = value === undefined ? '' : String(value);
}

function control(s) {
  const id = idOf(s.key);
  const common = { id, name: s.key, 'aria-describedby': `${id}-hint ${id}-error` };
  if (s.kind === 'bool') return h('input', { ...common, type: 'checkbox' });
  if (s.kind === 'choice')
    return h(
      'select',
      common,
      s.choices.map(([v, l]) => h('option', { value: String(v) }, l)),
    );
  if (s.kind === 'text' || s.kind === 'ports')
    return h('input', {
      ...common,
      type: 'text',
      autocomplete: 'off',
      spellcheck: false,
      inputMode: s.kind === 'ports' ? 'numeric' : undefined,
    });
  return h('input', {
    ...common,
    type: 'number',
    min: s.min,
    step: s.kind === 'int' ? 1 : 'any',
    inputMode: 'decimal',
  });
}

/** @param {HTMLElement} main */
export function mount(main) {
  /** @type {Map<string, { s: Setting, input: HTMLInputElement, row: HTMLElement, note: HTMLElement, error: HTMLElement }>} */
  const fields = new Map();
  /** Keys the operator touched since the last load. */
  const touched = new Set();
  let config;
  const resultBox = h('div', { id: 'settings-result', 'aria-live': 'polite' });
  const problem = h('div');
  let stopped = false;

  const sections = GROUPS.map((g) =>
    h(
      'fieldset',
      { class: 'panel', id: `group-${g.id}` },
      h('legend', null, g.title),
      g.settings.map((s) => {
        const input = /** @type {HTMLInputElement} */ (control(s));
        const note = h('small', { class: 'hint', id: `${idOf(s.key)}-hint` }, s.hint ?? '');
        const error = h('small', { class: 'field-error', id: `${idOf(s.key)}-error`, role: 'alert' });
        input.addEventListener(s.kind === 'bool' || s.kind === 'choice' ? 'change' : 'input', () => {
          touched.add(s.key);
          row.classList.toggle('changed', isChanged(s.key));
          if (s.key === 'rtsp.httpPorts') syncPort80();
          if (s.kind === 'kb') fill(note, sizeNote(s, input));
        });
        const label = h('label', { for: input.id }, s.label);
        const row = h(
          'div',
          { class: `field ${s.kind === 'bool' ? 'check' : ''}`, 'data-key': s.key },
          s.kind === 'bool' ? [input, label] : [label, input],
          note,
          error,
        );
        fields.set(s.key, { s, input, row, note, error });
        return row;
      }),
    ),
  );

  // DSS's "Streaming on port 80" box, kept in line with the HTTP ports list.
  const port80 = h('input', { type: 'checkbox', id: 's-port80' });
  const syncPort80 = () => {
    try {
      port80.checked = read(fields.get('rtsp.httpPorts').s, fields.get('rtsp.httpPorts').input).includes(80);
    } catch {
      // An unreadable list is shown at its field when saving.
    }
  };
  port80.addEventListener('change', () => {
    const f = fields.get('rtsp.httpPorts');
    let list;
    try {
      list = read(f.s, f.input);
    } catch {
      list = [];
    }
    list = port80.checked ? [...new Set([...list, 80])] : list.filter((p) => p !== 80);
    show(f.s, f.input, list);
    f.input.dispatchEvent(new Event('input'));
  });
  const http = fields.get('rtsp.httpPorts');
  http.row.after(
    h(
      'div',
      { class: 'field check' },
      port80,
      h(
        'label',
        { for: 's-port80' },
        'Stream on port 80 (players behind firewalls that allow only web traffic)',
      ),
    ),
  );
  const listening = h('small', { class: 'hint', id: 'listening' });
  fields.get('rtsp.ports').row.append(listening);

  const sizeNote = (s, input) => {
    try {
      const n = read(s, input);
      return n ? `${bytes(n)}${s.hint ? ` · ${s.hint}` : ''}` : (s.hint ?? '');
    } catch {
      return s.hint ?? '';
    }
  };

  function isChanged(key) {
    const f = fields.get(key);
    try {
      return !same(read(f.s, f.input), get(config, key));
    } catch {
      return true;
    }
  }

  const clearErrors = () => {
    for (const f of fields.values()) {
      f.input.removeAttribute('aria-invalid');
      f.row.classList.remove('invalid');
      fill(f.error);
    }
  };

  const markError = (key, message) => {
    const f = fields.get(key);
    if (!f) return false;
    f.input.setAttribute('aria-invalid', 'true');
    f.row.classList.add('invalid');
    fill(f.error, message);
    f.input.focus();
    return true;
  };

  const load = async () => {
    const [c, s] = await Promise.all([api('GET', '/config'), api('GET', '/server').catch(() => undefined)]);
    if (stopped) return;
    config = c;
    touched.clear();
    for (const f of fields.values()) {
      show(f.s, f.input, get(c, f.s.key));
      f.row.classList.remove('changed');
      if (f.s.kind === 'kb') fill(f.note, sizeNote(f.s, f.input));
    }
    syncPort80();
    fill(
      listening,
      s?.ports
        ? `Listening now: RTSP ${s.ports.rtsp.join(', ') || '–'}; HTTP ${s.ports.http?.join(', ') || '–'}.`
        : '',
    );
    const logsFolder = get(c, 'logs.folder');
    fill(folderNote, logsFolder ? ['Log files are written to ', h('code', null, logsFolder), '.'] : '');
  };

  const save = async (ev) => {
    ev.preventDefault();
    clearErrors();
    fill(resultBox);
    /** @type {Record<string, unknown>} */
    const changes = {};
    for (const key of touched) {
      const f = fields.get(key);
      let v;
      try {
        v = read(f.s, f.input);
      } catch (e) {
        markError(key, e instanceof Error ? e.message : String(e));
        fill(resultBox, notice('error', `${key}: ${e instanceof Error ? e.message : String(e)}`));
        return;
      }
      if (!same(v, get(config, key))) changes[key] = v;
    }
    if (Object.keys(changes).length === 0) {
      fill(resultBox, notice('info', 'Nothing changed.'));
      return;
    }
    saveButton.disabled = true;
    try {
      const r = await api('PATCH', '/config', changes);
      const n = Object.keys(changes).length;
      fill(resultBox, updateResult(`Changed ${n} setting${n === 1 ? '' : 's'}.`, r ?? {}));
      await load();
      resultBox.scrollIntoView({ block: 'center' });
    } catch (e) {
      const shown = e instanceof ApiFailure && e.key ? markError(e.key, e.message) : false;
      fill(
        resultBox,
        notice(
          'error',
          shown ? ['Not saved: ', h('code', null, e.key), ` ${e.message}`] : `Not saved: ${failureText(e)}`,
        ),
      );
      if (!shown) resultBox.scrollIntoView({ block: 'center' });
    } finally {
      saveButton.disabled = false;
    }
  };

  const folderNote = h('p', { class: 'hint' });
  const saveButton = h('button', { type: 'submit', class: 'primary' }, 'Save');
  const form = h(
    'form',
    { id: 'settings', novalidate: true, onsubmit: save },
    sections,
    folderNote,
    resultBox,
    h(
      'div',
      { class: 'buttons sticky' },
      saveButton,
      h(
        'button',
        {
          type: 'button',
          onclick: () => (
            clearErrors(),
            fill(resultBox),
            void load().catch((e) => fill(problem, notice('error', failureText(e))))
          ),
        },
        'Undo changes',
      ),
    ),
  );
  main.append(
    h('h1', null, 'Settings'),
    h(
      'p',
      { class: 'lead' },
      'Changes are saved to the config file, comments kept, and applied at once where they can be; the result says which wait for a restart.',
    ),
    problem,
    form,
  );
  load().catch((e) => fill(problem, notice('error', `Could not load the settings: ${failureText(e)}`)));
  return {
    stop() {
      stopped = true;
    },
  };
}
