/** The protocol-neutral core: what applies at a path (more to come with issue 10). */
export { PathManager, settingName, type PathManagerOptions, type PathSettings } from './path-manager.js';
