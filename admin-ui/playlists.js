// Playlists: every channel with its state, Start/Stop; a form to create or edit one (items picked
// from the media folder with their weights, play mode, no-repeat window, schedule), saved with
// PUT /api/v1/playlists/{name} into paths.<name>.playlist; each channel's log of what played.
import {
  api,
  ApiFailure,
  bytes,
  confirmButton,
  dataValue,
  dateTime,
  enc,
  failureText,
  fill,
  h,
  int,
  notice,
  refreshBar,
  SOURCE_STATE_BADGE,
  table,
  toast,
  updateResult,
} from './lib.js';

export const title = 'Playlists';

const MODES = [
  ['sequential_looped', 'Sequential, looped'],
  ['sequential', 'Sequential, once through'],
  ['weighted_random', 'Weighted random'],
];
/** Weight of an item that names none (DSS's default). */
const DEFAULT_WEIGHT = 10;
/** Media files listed at once in the picker; the filter finds the others. */
const PICKER_ROWS = 200;

const COLUMNS = [
  { key: 'name', label: 'Name (path)' },
  { key: 'state', label: 'State' },
  { key: 'current', label: 'Now playing' },
  { key: 'readers', label: 'Viewers', numeric: true },
  { key: 'origin', label: 'Defined in' },
  { key: 'actions', label: 'Actions' },
];

/** The list a config-defined playlist holds (SourceInfo.text is its JSON), or undefined for one
 * read from a .playlist file, which the form cannot edit. */
function listOf(info) {
  if (!info.origin.startsWith('paths.')) return undefined;
  try {
    const v = JSON.parse(info.text);
    return v && typeof v === 'object' && Array.isArray(v.items) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The file name of an item's path (the status names it in full). */
const baseName = (path) => path.slice(path.lastIndexOf('/') + 1);

function stateDetail(p) {
  if (p.state === 'running' && p.since) return `since ${dateTime(p.since)}`;
  if (p.state === 'waiting' && p.nextStart)
    return `${p.waiting === 'schedule' ? 'scheduled' : 'next try'} ${dateTime(p.nextStart)}`;
  if (p.state === 'waiting' && p.waiting) return p.waiting === 'start' ? 'starting' : p.waiting;
  if (p.state === 'stopped' && p.finished) return p.finished;
  if (p.state === 'idle') return 'starts with its first viewer';
  return '';
}

/** @param {HTMLElement} main */
export function mount(main) {
  let playlists = [];
  const box = h('div', { id: 'playlists' });
  const editorBox = h('div', { id: 'playlist-editor' });
  const logBox = h('div', { id: 'playlist-log' });
  const resultBox = h('div', { id: 'playlist-result', 'aria-live': 'polite' });
  /** Name whose log is shown. */
  let logOf;

  const act = async (p, verb) => {
    try {
      const info = await api('POST', `/playlists/${enc(p.path)}/${verb}`);
      toast('ok', `${p.path}: ${info.state}`);
    } catch (e) {
      toast('error', `Could not ${verb} ${p.path}: ${failureText(e)}`);
    }
    await refresh.refresh();
  };

  const remove = async (p) => {
    try {
      await api('DELETE', `/playlists/${enc(p.path)}`);
      toast('ok', `Deleted ${p.path}`);
      if (logOf === p.path) fill(logBox);
    } catch (e) {
      toast('error', `Could not delete ${p.path}: ${failureText(e)}`);
    }
    await refresh.refresh();
  };

  const render = () => {
    fill(
      box,
      table({
        columns: COLUMNS,
        rows: playlists,
        empty:
          'No playlist yet: create one with New playlist, or configure paths.<name>.playlist or playlists.folder.',
        rowAttrs: (p) => ({ 'data-playlist': p.path }),
        cells: (p) => {
          const list = listOf(p);
          const current = p.status && typeof p.status.current === 'string' ? p.status.current : undefined;
          const upcoming = p.status && Array.isArray(p.status.upcoming) ? p.status.upcoming : [];
          const running = p.state === 'running' || p.state === 'waiting';
          return [
            h('code', null, `/${p.path}`),
            h(
              'span',
              null,
              h('span', { class: `badge state ${SOURCE_STATE_BADGE[p.state] ?? 'idle'}` }, p.state),
              h('small', { class: 'sub' }, stateDetail(p)),
            ),
            current
              ? h(
                  'span',
                  {
                    title: `${current}${upcoming.length ? `\nNext: ${upcoming.map(String).join(', ')}` : ''}`,
                  },
                  baseName(current),
                )
              : '–',
            dataValue(p.readers, int(p.readers)),
            h('span', null, h('code', null, p.origin), list ? null : h('small', { class: 'sub' }, p.text)),
            h(
              'span',
              { class: 'actions' },
              running
                ? h(
                    'button',
                    { type: 'button', onclick: () => void act(p, 'stop'), 'aria-label': `Stop ${p.path}` },
                    'Stop',
                  )
                : h(
                    'button',
                    {
                      type: 'button',
                      class: 'primary',
                      onclick: () => void act(p, 'start'),
                      'aria-label': `Start ${p.path}`,
                    },
                    'Start',
                  ),
              list
                ? h(
                    'button',
                    {
                      type: 'button',
                      onclick: () => openEditor(p.path, list),
                      'aria-label': `Edit ${p.path}`,
                    },
                    'Edit',
                  )
                : null,
              h(
                'button',
                { type: 'button', onclick: () => void showLog(p.path), 'aria-label': `Log of ${p.path}` },
                'Log',
              ),
              p.origin.startsWith('paths.')
                ? confirmButton('Delete', 'Really delete?', () => remove(p), {
                    class: 'danger',
                    'aria-label': `Delete ${p.path}`,
                  })
                : null,
            ),
          ];
        },
      }),
    );
  };

  const load = async () => {
    const r = await api('GET', '/playlists');
    playlists = [...r.playlists].sort((a, b) => (a.path < b.path ? -1 : 1));
    render();
  };

  const showLog = async (name) => {
    logOf = name;
    const pre = h('pre', { class: 'log', tabindex: '0' }, 'Loading…');
    const reload = async () => {
      try {
        const r = await api('GET', `/playlists/${enc(name)}/log`);
        fill(pre, r.lines.length ? r.lines.join('\n') : 'Nothing logged yet.');
        pre.scrollTop = pre.scrollHeight;
      } catch (e) {
        fill(pre, `Could not load the log: ${failureText(e)}`);
      }
    };
    fill(
      logBox,
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'h-log' },
        h(
          'div',
          { class: 'panel-head' },
          h('h2', { id: 'h-log' }, `Log of /${name}`),
          h(
            'span',
            { class: 'actions' },
            h('button', { type: 'button', onclick: () => void reload() }, 'Reload'),
            h('button', { type: 'button', onclick: () => ((logOf = undefined), fill(logBox)) }, 'Close'),
          ),
        ),
        pre,
      ),
    );
    await reload();
    logBox.scrollIntoView({ block: 'nearest' });
  };

  /** Opens the form, for a new playlist (no name) or to edit one. */
  const openEditor = (name, list) => {
    fill(resultBox);
    fill(editorBox, editor({ name, list, onSaved: savedWith, onClose: () => fill(editorBox) }));
    editorBox.scrollIntoView({ block: 'nearest' });
    /** @type {HTMLElement | null} */ (editorBox.querySelector('input, select'))?.focus();
  };

  const savedWith = async (name, result, created) => {
    fill(editorBox);
    fill(resultBox, updateResult(`${created ? 'Created' : 'Changed'} playlist ${name}.`, result));
    await refresh.refresh();
  };

  const refresh = refreshBar({ page: 'playlists', load });
  refresh.bar.prepend(
    h(
      'button',
      { type: 'button', class: 'primary', onclick: () => openEditor(undefined, undefined) },
      'New playlist',
    ),
  );
  main.append(h('h1', null, 'Playlists'), refresh.bar, refresh.problem, resultBox, box, editorBox, logBox);
  return { stop: refresh.stop };
}

/** A one-line text field of the form, `pl-<name>`. */
function textInput(name, value, placeholder) {
  return h('input', {
    id: `pl-${name}`,
    name,
    value: value ?? '',
    placeholder,
    autocomplete: 'off',
    spellcheck: false,
  });
}

/**
 * The create/edit form.
 * @param {{ name?: string, list?: any, onSaved: (name: string, result: any, created: boolean) => void, onClose: () => void }} o
 */
function editor(o) {
  const creating = o.name === undefined;
  /** @type {{ file: string, weight: number }[]} */
  let items = (o.list?.items ?? []).map((i) =>
    typeof i === 'string'
      ? { file: i, weight: DEFAULT_WEIGHT }
      : { file: i.file, weight: i.weight ?? DEFAULT_WEIGHT },
  );
  /** @type {{ path: string, size: number }[] | undefined} */
  let media;
  let mediaFilter = '';

  const field = (id, label, input, hint) =>
    h(
      'div',
      { class: 'field', 'data-key': id },
      h('label', { for: `pl-${id}` }, label),
      input,
      hint ? h('small', { class: 'hint' }, hint) : null,
      h('small', { class: 'field-error', id: `pl-${id}-error`, role: 'alert' }),
    );
  const nameInput = textInput('name', o.name, 'channel or live/news');
  nameInput.required = true;
  nameInput.disabled = !creating;
  const modeSelect = h(
    'select',
    { id: 'pl-mode', name: 'mode' },
    MODES.map(([v, l]) =>
      h('option', { value: v, selected: (o.list?.mode ?? 'sequential_looped') === v }, l),
    ),
  );
  const recentInput = h('input', {
    id: 'pl-recent',
    name: 'recent',
    type: 'number',
    min: 0,
    step: 1,
    value: String(o.list?.recent ?? 0),
  });
  const startInput = textInput('start', o.list?.start, '2026-12-24T20:00:00Z or *60');
  const endInput = textInput('end', o.list?.end, 'empty: never');
  const autostartInput = h('input', {
    id: 'pl-autostart',
    name: 'autostart',
    type: 'checkbox',
    checked: o.list?.autostart ?? true,
  });
  const chosenBox = h('ol', { class: 'chosen', id: 'pl-items', 'aria-label': 'Items of the playlist' });
  const pickerBox = h('div', { class: 'picker-list' }, 'Loading the media folder…');
  const errorBox = h('div', { class: 'form-error', 'aria-live': 'assertive' });

  const syncWeights = () => {
    const weighted = modeSelect.value === 'weighted_random';
    form.classList.toggle('weighted', weighted);
    recentInput.disabled = !weighted;
  };

  const renderChosen = () => {
    fill(
      chosenBox,
      items.length
        ? items.map((it, i) =>
            h(
              'li',
              { 'data-file': it.file },
              h('span', { class: 'file' }, it.file),
              h(
                'label',
                { class: 'weight' },
                h('span', null, 'weight'),
                h('input', {
                  type: 'number',
                  min: 0.001,
                  step: 'any',
                  value: String(it.weight),
                  'aria-label': `Weight of ${it.file}`,
                  onchange: (e) => (it.weight = Number(e.target.value)),
                }),
              ),
              h(
                'span',
                { class: 'actions' },
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'small',
                    disabled: i === 0,
                    'aria-label': `Move ${it.file} up`,
                    onclick: () => move(i, -1),
                  },
                  '↑',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'small',
                    disabled: i === items.length - 1,
                    'aria-label': `Move ${it.file} down`,
                    onclick: () => move(i, 1),
                  },
                  '↓',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'small danger',
                    'aria-label': `Remove ${it.file}`,
                    onclick: () => ((items = items.filter((_, j) => j !== i)), renderChosen()),
                  },
                  '✕',
                ),
              ),
            ),
          )
        : [h('li', { class: 'empty' }, 'No item yet: add files from the media folder.')],
    );
  };
  const move = (i, by) => {
    const [it] = items.splice(i, 1);
    items.splice(i + by, 0, it);
    renderChosen();
  };

  const renderPicker = () => {
    if (!media) return;
    const q = mediaFilter.trim().toLowerCase();
    const matches = media.filter((f) => !q || f.path.toLowerCase().includes(q));
    fill(
      pickerBox,
      matches.length
        ? h(
            'ul',
            { id: 'pl-media' },
            matches.slice(0, PICKER_ROWS).map((f) =>
              h(
                'li',
                { 'data-file': f.path },
                h('span', { class: 'file' }, f.path),
                h('small', { class: 'size' }, bytes(f.size)),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'small',
                    'aria-label': `Add ${f.path}`,
                    onclick: () => (
                      (items = [...items, { file: f.path, weight: DEFAULT_WEIGHT }]),
                      renderChosen()
                    ),
                  },
                  'Add',
                ),
              ),
            ),
          )
        : h('p', null, media.length ? 'No file matches.' : 'The media folder has no playable file.'),
      matches.length > PICKER_ROWS
        ? h('p', { class: 'hint' }, `${int(matches.length - PICKER_ROWS)} more: narrow the filter.`)
        : null,
    );
  };

  const clearErrors = () => {
    fill(errorBox);
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of form.querySelectorAll('.field-error')) fill(el);
  };

  /** Shows an error next to the field its key names (`paths.x.playlist.recent` → recent). */
  const showError = (e) => {
    const text = failureText(e);
    fill(errorBox, notice('error', text));
    const key = e instanceof ApiFailure ? e.key : undefined;
    const m = key ? /\.playlist\.(\w+)/.exec(key) : undefined;
    const id = m ? m[1] : key && /^paths\./.test(key) ? 'name' : undefined;
    const input = id ? form.querySelector(`#pl-${id}`) : null;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      const slot = form.querySelector(`#pl-${id}-error`);
      if (slot) fill(slot, e.message);
      /** @type {HTMLElement} */ (input).focus();
    }
  };

  const save = async (ev) => {
    ev.preventDefault();
    clearErrors();
    const name = nameInput.value.trim().replace(/^\/+/, '');
    if (!name)
      return showError(new ApiFailure(400, 'give the playlist a name: the path it is broadcast at', 'paths'));
    if (!items.length)
      return showError(
        new ApiFailure(400, 'add at least one item from the media folder', `paths.${name}.playlist.items`),
      );
    /** @type {Record<string, unknown>} */
    const body = {
      // A bare name for the default weight, as an operator writes it in the config file.
      items: items.map((it) =>
        it.weight === DEFAULT_WEIGHT ? it.file : { file: it.file, weight: it.weight },
      ),
      mode: modeSelect.value,
    };
    if (modeSelect.value === 'weighted_random') body.recent = Number(recentInput.value || 0);
    if (startInput.value.trim()) body.start = startInput.value.trim();
    if (endInput.value.trim()) body.end = endInput.value.trim();
    // Sent only when off (the default is on), so a new playlist's entry stays short.
    if (!autostartInput.checked) body.autostart = false;
    const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type=submit]'));
    button.disabled = true;
    try {
      const result = await api('PUT', `/playlists/${enc(name)}`, body);
      o.onSaved(name, result ?? {}, creating);
    } catch (e) {
      showError(e);
    } finally {
      button.disabled = false;
    }
  };

  const form = h(
    'form',
    { class: 'panel editor', novalidate: true, onsubmit: save },
    h('div', { class: 'panel-head' }, h('h2', null, creating ? 'New playlist' : `Edit /${o.name}`)),
    field(
      'name',
      'Name (the path it is broadcast at)',
      nameInput,
      creating ? 'Viewers open rtsp://server/NAME.' : 'To rename, create a new playlist and delete this one.',
    ),
    h(
      'div',
      { class: 'items' },
      h(
        'fieldset',
        null,
        h('legend', null, 'Media folder'),
        h('input', {
          type: 'search',
          placeholder: 'Filter files…',
          'aria-label': 'Filter media files',
          oninput: (e) => ((mediaFilter = e.target.value), renderPicker()),
        }),
        pickerBox,
      ),
      h(
        'fieldset',
        { 'data-key': 'items' },
        h('legend', null, 'Items, in order'),
        chosenBox,
        h('small', { class: 'hint weights-hint' }, 'Weights count in weighted random mode (default 10).'),
        h('small', { class: 'field-error', id: 'pl-items-error', role: 'alert' }),
      ),
    ),
    h(
      'div',
      { class: 'row' },
      field('mode', 'Play mode', modeSelect),
      field(
        'recent',
        'No-repeat window',
        recentInput,
        'Weighted random: how many of the latest items may not play again.',
      ),
    ),
    h(
      'div',
      { class: 'row' },
      field(
        'start',
        'Starts at',
        startInput,
        'ISO date and time with its zone, or *N seconds after the server starts it; empty: at once.',
      ),
      field('end', 'Ends at', endInput),
    ),
    h(
      'div',
      { class: 'field check', 'data-key': 'autostart' },
      autostartInput,
      h('label', { for: 'pl-autostart' }, 'Broadcast from the server’s start'),
      h('small', { class: 'hint' }, 'Off: it starts with its first viewer and stops when nobody watches.'),
      h('small', { class: 'field-error', id: 'pl-autostart-error', role: 'alert' }),
    ),
    errorBox,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, creating ? 'Create playlist' : 'Save'),
      h('button', { type: 'button', onclick: o.onClose }, 'Cancel'),
    ),
  );
  modeSelect.addEventListener('change', syncWeights);
  syncWeights();
  renderChosen();
  api('GET', '/media')
    .then((r) => {
      media = r.files;
      renderPicker();
    })
    .catch((e) => fill(pickerBox, notice('error', `Could not list the media folder: ${failureText(e)}`)));
  return form;
}
