// The sign-in page: shows why the browser was sent here (a redirect with ?error=CODE, one of
// MESSAGES; any other text is ignored, so a link cannot make the page say what its sender
// wants), keeps the user name typed, and stops a second submit while the first is on its way.
// A failed sign-in is answered with this page, the reason filled in by the server.
const MESSAGES = {
  invalid: 'Wrong user name or password.',
  credentials: 'Wrong user name or password.',
  denied: 'That user is not in the admin group.',
  forbidden: 'That user is not in the admin group.',
  throttled: 'Too many failed sign-ins from your address: wait a little and try again.',
  expired: 'Your session ended: sign in again.',
  csrf: 'The form was not sent from this page: sign in again.',
  signedout: 'You are signed out.',
};

const params = new URLSearchParams(location.search);
const error = params.get('error');
const box = document.getElementById('signin-error');
const message = error !== null && Object.hasOwn(MESSAGES, error) ? MESSAGES[error] : undefined;
if (box && message) {
  box.textContent = message;
  box.hidden = false;
  // Not a failure: said quietly.
  if (error === 'signedout') {
    box.className = 'notice ok';
    box.setAttribute('role', 'status');
  }
}
if (box && box.textContent.trim() !== '') box.hidden = false;
const user = /** @type {HTMLInputElement | null} */ (document.getElementById('user'));
if (user && params.get('user')) {
  user.value = params.get('user') ?? '';
  document.getElementById('password')?.focus();
}
document.getElementById('signin')?.addEventListener('submit', (e) => {
  const button = /** @type {HTMLFormElement} */ (e.currentTarget).querySelector('button[type=submit]');
  // Disabled after this turn, so the browser still sends the form.
  setTimeout(() => button?.setAttribute('disabled', ''), 0);
});
