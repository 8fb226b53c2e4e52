// Logs: the error log's latest lines (filtered by level or text), and the access history: the
// files requested and how often since the counts were last reset, with a Reset button.
import {
  api,
  confirmButton,
  dataValue,
  dateTime,
  failureText,
  fill,
  h,
  int,
  notice,
  remember,
  remembered,
  searchField,
  selectField,
  table,
  toast,
} from './lib.js';

export const title = 'Logs';

const LINE_CHOICES = [100, 500, 2000];
const LEVELS = [
  ['', 'All levels'],
  ['FATAL', 'Fatal'],
  ['WARNING', 'Warnings and worse'],
  ['INFO', 'Information and worse'],
];
/** The levels each choice shows. */
const AT_LEAST = { FATAL: ['FATAL'], WARNING: ['FATAL', 'WARNING'], INFO: ['FATAL', 'WARNING', 'INFO'] };

/** @param {HTMLElement} main */
export function mount(main) {
  let lines = [];
  let count = remembered('logs.lines', 500);
  let level = '';
  let text = '';
  const pre = h(
    'pre',
    { class: 'log', id: 'error-log', tabindex: '0', 'aria-label': 'Error log' },
    'Loading…',
  );
  const errorProblem = h('div');
  const accessBox = h('div', { id: 'access-history' });
  const accessProblem = h('div');

  const renderErrors = () => {
    const allowed = level ? AT_LEAST[level] : undefined;
    const q = text.trim().toLowerCase();
    const shown = lines.filter(
      (l) =>
        (!allowed || allowed.some((lv) => l.includes(`: ${lv}: `))) && (!q || l.toLowerCase().includes(q)),
    );
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 40;
    fill(
      pre,
      shown.length
        ? shown.map((l) =>
            h(
              'span',
              { class: `line ${(/: (FATAL|WARNING|INFO|ASSERT|DEBUG): /.exec(l)?.[1] ?? '').toLowerCase()}` },
              l,
              '\n',
            ),
          )
        : lines.length
          ? 'No line matches.'
          : 'The error log is empty (or off: Settings › Logging).',
    );
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  };

  const loadErrors = async () => {
    try {
      const r = await api('GET', `/logs/error?lines=${count}`);
      lines = r.lines;
      fill(errorProblem);
      renderErrors();
      pre.scrollTop = pre.scrollHeight;
    } catch (e) {
      fill(errorProblem, notice('error', `Could not load the error log: ${failureText(e)}`));
    }
  };

  const loadAccess = async () => {
    try {
      const r = await api('GET', '/logs/access');
      const files = [...r.files].sort((a, b) => b.count - a.count || (a.path < b.path ? -1 : 1));
      const total = files.reduce((n, f) => n + f.count, 0);
      fill(accessProblem);
      fill(
        accessBox,
        h(
          'p',
          { class: 'summary' },
          `${int(total)} request${total === 1 ? '' : 's'} for ${int(files.length)} file${files.length === 1 ? '' : 's'} since `,
          h('time', { dateTime: r.since }, dateTime(r.since)),
          '.',
        ),
        table({
          columns: [
            { key: 'path', label: 'File' },
            { key: 'count', label: 'Requests', numeric: true },
          ],
          rows: files,
          empty: 'Nothing requested since the counts were reset.',
          rowAttrs: (f) => ({ 'data-file': f.path }),
          cells: (f) => [h('code', null, f.path), dataValue(f.count, int(f.count))],
        }),
      );
    } catch (e) {
      fill(accessProblem, notice('error', `Could not load the access history: ${failureText(e)}`));
    }
  };

  const reset = async () => {
    try {
      await api('DELETE', '/logs/access');
      toast('ok', 'Access counts reset.');
    } catch (e) {
      toast('error', `Could not reset: ${failureText(e)}`);
    }
    await loadAccess();
  };

  const errorBar = h(
    'div',
    { class: 'toolbar' },
    selectField({
      name: 'log-lines',
      label: 'Lines',
      value: count,
      options: LINE_CHOICES.map((n) => [n, `last ${n}`]),
      onchange: (v) => ((count = Number(v)), remember('logs.lines', count), void loadErrors()),
    }),
    selectField({
      name: 'log-level',
      label: 'Level',
      value: level,
      options: LEVELS,
      onchange: (v) => ((level = v), renderErrors()),
    }),
    searchField({ name: 'log-text', label: 'Find', oninput: (v) => ((text = v), renderErrors()) }),
    h('button', { type: 'button', onclick: () => void loadErrors() }, 'Reload'),
  );
  main.append(
    h('h1', null, 'Logs'),
    h(
      'section',
      { 'aria-labelledby': 'h-error-log' },
      h('h2', { id: 'h-error-log' }, 'Error log'),
      errorBar,
      errorProblem,
      pre,
    ),
    h(
      'section',
      { 'aria-labelledby': 'h-access' },
      h('h2', { id: 'h-access' }, 'Access history'),
      h(
        'div',
        { class: 'toolbar' },
        h('button', { type: 'button', onclick: () => void loadAccess() }, 'Reload'),
        confirmButton('Reset counts', 'Really reset?', reset, { class: 'danger', id: 'reset-access' }),
      ),
      accessProblem,
      accessBox,
    ),
  );
  void loadErrors();
  void loadAccess();
  return { stop() {} };
}
